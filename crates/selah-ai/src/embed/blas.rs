//! The matrix product, from OpenBLAS (linked statically; `build.rs` finds it). OpenBLAS runs
//! all-MiniLM's products at about 32 GFLOP/s on one core of the 2-vCPU test machine, where the
//! pure-Rust `gemm` crate managed 19 and PyTorch 34 (docs/BENCHMARKS.md, "Search"): the products
//! are four fifths of an embedding's time, so this decides embedding throughput.
//!
//! The embedder parallelises over texts, one per core, so OpenBLAS is told to use one thread per
//! call; its own pool would only fight ours for the same cores.

// FFI into a C library has no safe form; every call is behind `sgemm`'s checks.
#![allow(unsafe_code)]

use std::ffi::c_int;

const ROW_MAJOR: c_int = 101;
const NO_TRANS: c_int = 111;
const TRANS: c_int = 112;

unsafe extern "C" {
    fn cblas_sgemm(
        order: c_int,
        trans_a: c_int,
        trans_b: c_int,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: f32,
        a: *const f32,
        lda: c_int,
        b: *const f32,
        ldb: c_int,
        beta: f32,
        c: *mut f32,
        ldc: c_int,
    );
    fn openblas_set_num_threads(n: c_int);
}

/// Makes every later product run on the calling thread only. Call before the first product.
pub fn single_threaded() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: sets an integer in OpenBLAS's configuration; no pointers involved.
    ONCE.call_once(|| unsafe { openblas_set_num_threads(1) });
}

/// An operand in the form BLAS takes it: transposed or not, and the distance between the rows
/// (not transposed) or columns (transposed) of the matrix as read.
#[derive(Clone, Copy, Debug)]
pub struct Operand {
    /// Read as the transpose of a row-major matrix.
    pub transposed: bool,
    /// Leading dimension.
    pub ld: usize,
}

fn int(x: usize) -> c_int {
    c_int::try_from(x).expect("matrix dimension beyond BLAS's int")
}

/// `c = alpha · a · b + beta · c` on row-major `c` (`m × n`, rows `ldc` apart), `a` being `m × k`
/// and `b` being `k × n` as described by their operands.
///
/// # Panics
/// When a matrix as described reaches past its slice, or a leading dimension is shorter than a
/// row. These are the checks that make the call safe.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    (m, n, k): (usize, usize, usize),
    alpha: f32,
    (a, ao): (&[f32], Operand),
    (b, bo): (&[f32], Operand),
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    // Elements of a row-major r × w matrix with rows ld apart: (r − 1)·ld + w, and ld ≥ w.
    let need = |rows: usize, width: usize, ld: usize| {
        assert!(
            ld >= width.max(1),
            "leading dimension {ld} below row width {width}"
        );
        (rows - 1) * ld + width
    };
    let (a_rows, a_width) = if ao.transposed { (k, m) } else { (m, k) };
    let (b_rows, b_width) = if bo.transposed { (n, k) } else { (k, n) };
    if k > 0 {
        assert!(
            need(a_rows, a_width, ao.ld) <= a.len(),
            "left matrix past its slice"
        );
        assert!(
            need(b_rows, b_width, bo.ld) <= b.len(),
            "right matrix past its slice"
        );
    }
    assert!(need(m, n, ldc) <= c.len(), "output past its slice");
    let flag = |o: Operand| if o.transposed { TRANS } else { NO_TRANS };
    // SAFETY: the assertions above keep every element BLAS reads or writes inside its slice; `c`
    // is a unique borrow, so it aliases neither input; the dimensions fit BLAS's int (`int`).
    unsafe {
        cblas_sgemm(
            ROW_MAJOR,
            flag(ao),
            flag(bo),
            int(m),
            int(n),
            int(k),
            alpha,
            a.as_ptr(),
            int(ao.ld.max(1)),
            b.as_ptr(),
            int(bo.ld.max(1)),
            beta,
            c.as_mut_ptr(),
            int(ldc),
        );
    }
}
