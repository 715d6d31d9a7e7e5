#version 430
// normalize_cols.comp: scales each column c < cols of W so that it sums to
// target; a column that sums to zero is left as it is. Twin of the cpu
// Normalize along Cols: sums and factors are double, each element becomes
// float(double(w) * factor). One invocation per column.
//
// MODE 0: W is one tile of rows rows; sum and scale in one dispatch.
// MODE 1: add the sums of this tile's rows to colSum (or store them, when
//         flags is 1: the first tile).
// MODE 2: scale this tile's rows by target / colSum.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer W { float w[]; };
#if MODE != 0
layout(std430, binding = 1) buffer ColSum { double colSum[]; };
#endif

uniform uint rows;
uniform uint cols;
uniform uint flags;
uniform float target;

double columnSum(uint c) {
    double s = 0.0lf;
    uint k = c;
    for (uint r = 0u; r < rows; r++) {
        s += double(w[k]);
        k += cols;
    }
    return s;
}

void scale(uint c, double sum) {
    if (sum == 0.0lf) { return; }
    double f = double(target) / sum;
    uint k = c;
    for (uint r = 0u; r < rows; r++) {
        w[k] = float(double(w[k]) * f);
        k += cols;
    }
}

void main() {
    for (uint c = gl_GlobalInvocationID.x; c < cols; c += gl_NumWorkGroups.x * 64u) {
#if MODE == 0
        scale(c, columnSum(c));
#elif MODE == 1
        double s = columnSum(c);
        colSum[c] = flags == 1u ? s : colSum[c] + s;
#else
        scale(c, colSum[c]);
#endif
    }
}
