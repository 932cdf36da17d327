//! Inference's grouped linear map `x [V, N, K] @ w [V, K, M] + b [V, M]` straight into gemm:
//! the output starts as the broadcast bias and gemm adds the product to it. flex's matmul
//! allocates its output zeroed as bytes and then copies it to realign it (a fifth of a
//! forecast's time went to that memset and memmove), and the bias is a second pass over it.

use super::host::HostTensor;

/// `x @ w + b` per group; every operand contiguous.
pub fn grouped_linear(x: &HostTensor, w: &HostTensor, b: &HostTensor) -> HostTensor {
    let (xd, wd) = (x.dims(), w.dims());
    let (v, n, k, m) = (xd[0], xd[1], xd[2], wd[2]);
    assert!(
        wd[0] == v && wd[1] == k && b.dims() == [v, m],
        "fused linear: x {xd:?}, w {wd:?} and b {:?} do not fit",
        b.dims()
    );
    let (xs, ws, bs) = (x.data(), w.data(), b.data());
    let mut out = Vec::with_capacity(v * n * m);
    for g in 0..v {
        for _ in 0..n {
            out.extend_from_slice(&bs[g * m..(g + 1) * m]);
        }
    }
    for g in 0..v {
        let dst = &mut out[g * n * m..(g + 1) * n * m];
        let (lhs, rhs) = (
            &xs[g * n * k..(g + 1) * n * k],
            &ws[g * k * m..(g + 1) * k * m],
        );
        // SAFETY: `dst` is n x m, `lhs` n x k and `rhs` k x m, all row-major and in bounds (the
        // slices above); gemm reads and writes only within those extents.
        unsafe {
            gemm::gemm(
                n,
                m,
                k,
                dst.as_mut_ptr(),
                1,
                m as isize,
                true,
                lhs.as_ptr(),
                1,
                k as isize,
                rhs.as_ptr(),
                1,
                m as isize,
                1.0f32,
                1.0f32,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
    HostTensor::new(out, [v, n, m])
}
