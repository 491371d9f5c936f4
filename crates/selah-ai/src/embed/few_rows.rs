//! The product of a few rows (a search question's dozen tokens) with a layer's weights, read
//! where they lie.
//!
//! OpenBLAS copies the right-hand matrix into its packed layout on every call. For a batch of
//! passages that copy is shared by hundreds of rows; for a question of a dozen tokens it costs
//! about as much as the product itself, and a search pays it for every layer's weights. This
//! kernel streams the weights once per 16 columns, straight from the model's row-major
//! matrices, keeping a 6 × 16 block of the result in AVX registers (the classic AVX2 shape:
//! 12 accumulators, 2 weight vectors, 1 broadcast), and visits the rows of the question in
//! blocks of six while those 16 columns of weights are still in the first-level cache.
//!
//! [`add_product`] returns false where the CPU has no AVX2 and FMA, and the caller uses BLAS.
//!
//! Unsafe code is allowed here, as in `blas.rs`, for the AVX intrinsics and raw pointers of
//! the kernel; the safe entry points check every bound before calling it.

#![allow(unsafe_code)]

/// At most this many rows go through the kernel; more rows amortise BLAS's packing.
pub const FEW_ROWS: usize = 32;

/// `out[i][j] = base + scale · Σₚ x[i][p] · w[p][j]` for `rows` rows and `cols` columns, where
/// `base` is `out[i][j]` when `accumulate`, else 0. Rows of `x` are `x_stride` apart, rows of
/// `w` `w_stride` and rows of `out` `out_stride`, all with unit column stride. Returns false,
/// touching nothing, when the CPU cannot run the kernel.
///
/// The caller has checked that every row and column named lies within its slice.
#[allow(clippy::too_many_arguments)]
pub fn add_product(
    out: &mut [f32],
    out_stride: usize,
    (x, x_stride): (&[f32], usize),
    (w, w_stride): (&[f32], usize),
    (rows, inner, cols): (usize, usize, usize),
    scale: f32,
    accumulate: bool,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if supported() {
            assert!(rows == 0 || (rows - 1) * out_stride + cols <= out.len());
            assert!(rows == 0 || inner == 0 || (rows - 1) * x_stride + inner <= x.len());
            assert!(inner == 0 || (inner - 1) * w_stride + cols <= w.len());
            let m = Operands {
                out: out.as_mut_ptr(),
                out_stride,
                x: x.as_ptr(),
                x_stride,
                w: Weights::RowMajor {
                    w: w.as_ptr(),
                    stride: w_stride,
                },
                inner,
                scale,
                accumulate,
            };
            // SAFETY: the CPU has AVX2 and FMA (checked above) and every index the kernel forms
            // lies within the slices (asserted above).
            unsafe { avx2::product(&m, rows, cols) };
            return true;
        }
    }
    let _ = (out, out_stride, x, x_stride, w, w_stride, rows, inner, cols);
    let _ = (scale, accumulate);
    false
}

/// The operands as raw pointers, shared by the blocks of one product.
struct Operands {
    out: *mut f32,
    out_stride: usize,
    x: *const f32,
    x_stride: usize,
    w: Weights,
    inner: usize,
    scale: f32,
    accumulate: bool,
}

/// How the weights lie.
#[derive(Clone, Copy)]
enum Weights {
    /// Row-major, rows `stride` apart.
    RowMajor { w: *const f32, stride: usize },
    /// [`Packed`]: 16 columns at a time, each inner index's 16 weights next to each other.
    Packed { w: *const f32 },
}

impl Weights {
    /// Where column `j`'s weights start (`j` a multiple of 16 when packed), and the distance
    /// from one inner index to the next.
    fn column(self, j: usize, inner: usize) -> (*const f32, usize) {
        match self {
            // Pointer arithmetic only; the kernel reads within the checked bounds.
            Weights::RowMajor { w, stride } => (w.wrapping_add(j), stride),
            Weights::Packed { w } => (w.wrapping_add(j * inner), PANEL),
        }
    }
}

/// Columns per panel of [`Packed`] weights, and per block of the kernel.
const PANEL: usize = 16;

/// A weight matrix copied once into the kernel's order: panels of 16 columns, each holding its
/// columns' weights inner index by inner index, so a product reads it front to back and the
/// prefetcher keeps up (a row-major matrix's rows are several KiB apart, past what it follows).
pub struct Packed {
    data: Vec<f32>,
    inner: usize,
    cols: usize,
}

impl Packed {
    /// Packs an `inner × cols` row-major matrix (`cols` a multiple of 16); None otherwise, or
    /// where the CPU cannot run the kernel.
    pub fn new(w: &[f32], inner: usize, cols: usize) -> Option<Packed> {
        if !cols.is_multiple_of(PANEL) || w.len() != inner * cols || !supported() {
            return None;
        }
        let mut data = Vec::with_capacity(w.len());
        for j in (0..cols).step_by(PANEL) {
            for p in 0..inner {
                data.extend_from_slice(&w[p * cols + j..p * cols + j + PANEL]);
            }
        }
        Some(Packed { data, inner, cols })
    }

    /// Columns `from..to` (multiples of 16) of `out += x · w` for `rows` rows of `x` (rows
    /// `inner` apart) into `out` (rows `out_stride` apart, column `from` at index 0).
    pub fn add_product(
        &self,
        out: &mut [f32],
        out_stride: usize,
        x: &[f32],
        rows: usize,
        (from, to): (usize, usize),
    ) {
        assert!(
            from.is_multiple_of(PANEL) && to.is_multiple_of(PANEL) && from <= to && to <= self.cols
        );
        assert!(rows == 0 || (rows - 1) * out_stride + (to - from) <= out.len());
        assert!(x.len() >= rows * self.inner);
        let m = Operands {
            out: out.as_mut_ptr(),
            out_stride,
            x: x.as_ptr(),
            x_stride: self.inner,
            w: Weights::Packed {
                w: self.data[from * self.inner..].as_ptr(),
            },
            inner: self.inner,
            scale: 1.0,
            accumulate: true,
        };
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a `Packed` exists only where the CPU has AVX2 and FMA; the bounds are
        // asserted above.
        unsafe {
            avx2::product(&m, rows, to - from)
        };
    }
}

/// Whether this CPU runs the kernel.
fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{Operands, PANEL as COLS};

    /// Rows per block.
    const ROWS: usize = 6;

    /// The whole product: 16 columns at a time, and within them the rows six at a time.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn product(m: &Operands, rows: usize, cols: usize) {
        let mut j = 0;
        while j + COLS <= cols {
            let mut i = 0;
            while i < rows {
                // SAFETY (for each call): rows i..i+r and columns j..j+16 are within the
                // product, which the caller checked lies within the slices.
                unsafe {
                    match rows - i {
                        1 => block::<1>(m, i, j),
                        2 => block::<2>(m, i, j),
                        3 => block::<3>(m, i, j),
                        4 => block::<4>(m, i, j),
                        5 => block::<5>(m, i, j),
                        _ => block::<ROWS>(m, i, j),
                    }
                }
                i += ROWS;
            }
            j += COLS;
        }
        for col in j..cols {
            for row in 0..rows {
                // SAFETY: as above, for the columns left over.
                unsafe { single(m, row, col) };
            }
        }
    }

    /// Rows `i..i+R`, columns `j..j+16`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block<const R: usize>(m: &Operands, i: usize, j: usize) {
        let mut acc = [[_mm256_setzero_ps(); 2]; R];
        // SAFETY: every pointer formed below is within the operands (see `product`).
        unsafe {
            let x = m.x.add(i * m.x_stride);
            let (mut w, step) = m.w.column(j, m.inner);
            let ahead = COLS * m.inner;
            for p in 0..m.inner {
                // While this panel is used, the next one is asked for (a line per inner index
                // when packed), so the memory keeps streaming while the rows after the first
                // six reuse this panel from the cache.
                _mm_prefetch::<_MM_HINT_T1>(w.wrapping_add(ahead) as *const i8);
                let w0 = _mm256_loadu_ps(w);
                let w1 = _mm256_loadu_ps(w.add(8));
                for (r, a) in acc.iter_mut().enumerate() {
                    let v = _mm256_broadcast_ss(&*x.add(r * m.x_stride + p));
                    a[0] = _mm256_fmadd_ps(v, w0, a[0]);
                    a[1] = _mm256_fmadd_ps(v, w1, a[1]);
                }
                w = w.add(step);
            }
            let scale = _mm256_set1_ps(m.scale);
            for (r, a) in acc.iter().enumerate() {
                let o = m.out.add((i + r) * m.out_stride + j);
                for (half, v) in a.iter().enumerate() {
                    let o = o.add(8 * half);
                    let base = if m.accumulate {
                        _mm256_loadu_ps(o)
                    } else {
                        _mm256_setzero_ps()
                    };
                    _mm256_storeu_ps(o, _mm256_fmadd_ps(*v, scale, base));
                }
            }
        }
    }

    /// One element, for the columns that do not fill a block.
    unsafe fn single(m: &Operands, row: usize, col: usize) {
        // SAFETY: within the operands (see `product`).
        unsafe {
            let (w, step) = m.w.column(col, m.inner);
            let mut sum = 0.0f32;
            for p in 0..m.inner {
                sum += *m.x.add(row * m.x_stride + p) * *w.add(p * step);
            }
            let o = m.out.add(row * m.out_stride + col);
            let base = if m.accumulate { *o } else { 0.0 };
            *o = base + m.scale * sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 37 + seed) % 101) as f32 / 50.0 - 1.0)
            .collect()
    }

    #[test]
    fn packed_weights_give_the_row_major_product() {
        let (inner, cols) = (19, 48);
        let w = matrix(inner * cols, 3);
        let Some(packed) = Packed::new(&w, inner, cols) else {
            assert!(
                !supported(),
                "packing fails only where the kernel cannot run"
            );
            return;
        };
        assert!(
            Packed::new(&w[..inner * 40], inner, 40).is_none(),
            "40 columns do not pack"
        );
        for rows in 1..=13 {
            let x = matrix(rows * inner, rows);
            let mut want = vec![0.5; rows * cols];
            assert!(add_product(
                &mut want,
                cols,
                (&x, inner),
                (&w, cols),
                (rows, inner, cols),
                1.0,
                true
            ));
            // The middle 16 columns alone, then all of them, into a wider output.
            let mut mid = vec![0.5; rows * 16];
            packed.add_product(&mut mid, 16, &x, rows, (16, 32));
            let mut all = vec![0.5; rows * 50];
            packed.add_product(&mut all, 50, &x, rows, (0, cols));
            for i in 0..rows {
                assert_eq!(
                    &mid[i * 16..(i + 1) * 16],
                    &want[i * cols + 16..i * cols + 32]
                );
                assert_eq!(&all[i * 50..i * 50 + cols], &want[i * cols..(i + 1) * cols]);
                assert!(all[i * 50 + cols..(i + 1) * 50].iter().all(|&v| v == 0.5));
            }
        }
    }

    /// Not a test: times BLAS, the kernel on row-major weights and on packed ones for a
    /// question-sized and a batch-sized input. `cargo test --release -p selah-ai
    /// few_rows::tests::timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn timing() {
        use super::super::blas::{self, Operand};
        use std::time::Instant;
        blas::single_threaded();
        for (inner, cols) in [(384, 1152), (384, 1536), (1536, 384)] {
            let w = matrix(inner * cols, 1);
            let packed = Packed::new(&w, inner, cols).expect("AVX2");
            for rows in [12, 18, 32, 64, 256] {
                let x = matrix(rows * inner, 2);
                let mut out = vec![0.0; rows * cols];
                let reps = (2_000_000_000 / (rows * inner * cols)).max(3);
                let time = |f: &mut dyn FnMut(&mut [f32])| {
                    let mut out = out.clone();
                    f(&mut out);
                    let t = Instant::now();
                    for _ in 0..reps {
                        f(&mut out);
                    }
                    t.elapsed().as_secs_f64() * 1e6 / reps as f64
                };
                let b = time(&mut |o| {
                    blas::sgemm(
                        (rows, cols, inner),
                        1.0,
                        (
                            &x,
                            Operand {
                                transposed: false,
                                ld: inner,
                            },
                        ),
                        (
                            &w,
                            Operand {
                                transposed: false,
                                ld: cols,
                            },
                        ),
                        1.0,
                        o,
                        cols,
                    )
                });
                let r = time(&mut |o| {
                    add_product(
                        o,
                        cols,
                        (&x, inner),
                        (&w, cols),
                        (rows, inner, cols),
                        1.0,
                        true,
                    );
                });
                let p = time(&mut |o| packed.add_product(o, cols, &x, rows, (0, cols)));
                out[0] = 0.0;
                println!(
                    "{rows:>3} x {inner} x {cols}: blas {b:8.1} us, row-major {r:8.1} us, packed {p:8.1} us"
                );
            }
        }
    }
}
