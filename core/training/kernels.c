/* Fused float32 kernels for the optimizer's largest tensors (core/training/kernels.py compiles and loads this).
 *
 * mxnet 1.9.1's adam_update moves about 8 GB/s on this project's 2-core CPUs: one pass of Adam over lenet5's
 * generator's 8.4M-weight layer took 28-39 ms where PyTorch's fused Adam takes 8. Each function below reads and
 * writes every array once, in the order of operations of mxnet's kernel (src/operator/optimizer_op-inl.h), so
 * that without FMA contraction (-ffp-contract=off) the results are mxnet's, bit for bit. The caller splits the
 * range between threads; the functions hold no state.
 */
#include <math.h>
#include <stddef.h>

/* mxnet's adam_update: g = rescale * grad + wd * weight, clipped to [-clip, clip] when clip >= 0;
 * mean = b1 * mean + (1 - b1) * g; var = b2 * var + (1 - b2) * g * g;
 * weight = weight - lr * mean / (sqrt(var) + eps). */
void adam_f32(float *weight, const float *grad, float *mean, float *var, ptrdiff_t n, float lr, float beta1,
              float beta2, float epsilon, float rescale, float wd, float clip) {
    const float one_b1 = 1.f - beta1, one_b2 = 1.f - beta2;
    for (ptrdiff_t i = 0; i < n; ++i) {
        float g = grad[i] * rescale + weight[i] * wd;
        if (clip >= 0.f)  /* the same for every i: the compiler moves the test out of the loop */
            g = g > clip ? clip : (g < -clip ? -clip : g);
        const float m = beta1 * mean[i] + one_b1 * g;
        const float v = beta2 * var[i] + one_b2 * g * g;
        mean[i] = m;
        var[i] = v;
        weight[i] = weight[i] - lr * m / (sqrtf(v) + epsilon);
    }
}

/* The moving average: average = decay * average + (1 - decay) * live. */
void lerp_f32(float *average, const float *live, ptrdiff_t n, float decay) {
    const float rest = 1.f - decay;
    for (ptrdiff_t i = 0; i < n; ++i)
        average[i] = decay * average[i] + rest * live[i];
}
