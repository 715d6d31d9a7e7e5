#version 430
// normalize_rows.comp: scales each row r < rows of one tile of W (cols
// columns) so that it sums to target; a row that sums to zero is left as
// it is. Twin of the cpu Normalize along Rows: the sum and the factor are
// double, each element becomes float(double(w) * factor). One group of 64
// invocations per row, summing in shared memory; with ROWS_PER_INVOCATION
// (software renderers) each invocation does whole rows on its own.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer W { float w[]; };

uniform uint rows;
uniform uint cols;
uniform float target;

shared double acc[64];

void main() {
#ifdef ROWS_PER_INVOCATION
    for (uint r = gl_GlobalInvocationID.x; r < rows; r += gl_NumWorkGroups.x * 64u) {
        uint base = r * cols;
        double sum = 0.0lf;
        for (uint j = 0u; j < cols; j++) {
            sum += double(w[base + j]);
        }
        if (sum == 0.0lf) { continue; }
        double f = double(target) / sum;
        for (uint j = 0u; j < cols; j++) {
            w[base + j] = float(double(w[base + j]) * f);
        }
    }
#else
    uint r = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (r >= rows) { return; }
    uint lid = gl_LocalInvocationIndex;
    uint base = r * cols;
    double s = 0.0lf;
    for (uint j = lid; j < cols; j += 64u) {
        s += double(w[base + j]);
    }
    acc[lid] = s;
    memoryBarrierShared();
    barrier();
    for (uint k = 32u; k > 0u; k >>= 1) {
        if (lid < k) {
            acc[lid] += acc[lid + k];
        }
        memoryBarrierShared();
        barrier();
    }
    double sum = acc[0];
    if (sum == 0.0lf) { return; }
    double f = double(target) / sum;
    for (uint j = lid; j < cols; j += 64u) {
        w[base + j] = float(double(w[base + j]) * f);
    }
#endif
}
