// sgemv.c times OpenBLAS sgemv (plain and transposed) on a 5000x5000
// float32 matrix, the size of BenchmarkMatVec5000: the cpu backend's dense
// mat-vec should reach at least 0.8x its speed (docs/targets.md). Run both
// on the same machine in the same minute:
//
//	gcc -O2 cpu/testdata/sgemv.c -o /tmp/sgemv -lopenblas && /tmp/sgemv
//	go test ./cpu -run XXX -bench MatVec5000 -benchtime=50x
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cblas.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
	const int n = 5000, iters = 50;
	float *a = malloc(sizeof(float) * n * n), *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
	for (long i = 0; i < (long)n * n; i++) a[i] = (float)rand() / RAND_MAX;
	for (int i = 0; i < n; i++) x[i] = (float)rand() / RAND_MAX;
	for (int t = 0; t < 2; t++) {
		enum CBLAS_TRANSPOSE tr = t ? CblasTrans : CblasNoTrans;
		cblas_sgemv(CblasRowMajor, tr, n, n, 1, a, n, x, 1, 0, y, 1);
		double best = 1e9, total = 0;
		for (int k = 0; k < iters; k++) {
			double t0 = now();
			cblas_sgemv(CblasRowMajor, tr, n, n, 1, a, n, x, 1, 0, y, 1);
			double d = now() - t0;
			total += d;
			if (d < best) best = d;
		}
		printf("openblas sgemv %dx%d trans=%d: mean %.3f ms, best %.3f ms\n", n, n, t, total / iters * 1e3, best * 1e3);
	}
	return 0;
}
