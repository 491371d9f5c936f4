//! The numeric kernels of the embedder's forward pass: matrix products (OpenBLAS through
//! [`super::blas`], or for a few rows [`super::few_rows`], on matrices described as views into
//! slices), layer normalisation, softmax
//! and GELU.
//!
//! The elementwise kernels are plain loops over slices with branch-free polynomial `exp` and
//! `erf` and reductions over eight lanes, so the compiler vectorises them. Written as one scalar
//! loop, softmax alone took a sixth of a pass.

use super::blas::{self, Operand};
use super::few_rows::{self, FEW_ROWS};

/// How a matrix lies in a slice: element `(i, j)` is at `i * row_stride + j * col_stride`.
#[derive(Clone, Copy, Debug)]
pub struct View {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between rows.
    pub row_stride: usize,
    /// Distance between columns.
    pub col_stride: usize,
}

impl View {
    /// A dense row-major `rows × cols` matrix.
    pub fn dense(rows: usize, cols: usize) -> Self {
        Self::rows_of(rows, cols, cols)
    }

    /// `rows × cols` taken from rows `row_stride` apart (a column block of a wider matrix).
    pub fn rows_of(rows: usize, cols: usize, row_stride: usize) -> Self {
        Self {
            rows,
            cols,
            row_stride,
            col_stride: 1,
        }
    }

    /// The same elements read as the transpose.
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// One past the furthest element the view reads.
    fn span(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
        }
    }
}

/// A matrix to read: a slice and how the matrix lies in it.
#[derive(Clone, Copy)]
pub struct Mat<'a>(pub &'a [f32], pub View);

/// `out = scale · a · b`, or `out += scale · a · b` when `accumulate`, on the calling thread.
///
/// Panics when the shapes disagree, a view reaches past its slice, an input has no unit stride,
/// or `out` is not row-major with rows at least `cols` apart.
pub fn matmul(
    out: &mut [f32],
    o: View,
    Mat(a, av): Mat,
    Mat(b, bv): Mat,
    scale: f32,
    accumulate: bool,
) {
    assert_eq!(av.cols, bv.rows, "inner dimensions");
    assert_eq!((o.rows, o.cols), (av.rows, bv.cols), "output shape");
    assert!(o.col_stride == 1, "output must be row-major");
    assert!(o.span() <= out.len(), "output view past its slice");
    assert!(av.span() <= a.len(), "left view past its slice");
    assert!(bv.span() <= b.len(), "right view past its slice");
    let row_major = |v: View| v.col_stride == 1 || v.cols <= 1;
    if av.rows <= FEW_ROWS
        && row_major(av)
        && row_major(bv)
        && few_rows::add_product(
            out,
            o.row_stride.max(o.cols),
            (a, av.row_stride.max(av.cols)),
            (b, bv.row_stride.max(bv.cols)),
            (o.rows, av.cols, o.cols),
            scale,
            accumulate,
        )
    {
        return;
    }
    blas::sgemm(
        (o.rows, o.cols, av.cols),
        scale,
        (a, operand(av)),
        (b, operand(bv)),
        if accumulate { 1.0 } else { 0.0 },
        out,
        o.row_stride.max(o.cols),
    );
}

/// A view as BLAS reads it: row-major (unit column stride) or the transpose of row-major.
fn operand(v: View) -> Operand {
    if v.col_stride == 1 || v.cols <= 1 {
        Operand {
            transposed: false,
            ld: v.row_stride.max(v.cols),
        }
    } else {
        assert!(
            v.row_stride == 1 || v.rows <= 1,
            "a matrix needs one unit stride"
        );
        Operand {
            transposed: true,
            ld: v.col_stride.max(v.rows),
        }
    }
}

/// Copies `bias` into every `bias.len()`-wide row of `out` (a product then accumulates onto it).
pub fn fill_rows(out: &mut [f32], bias: &[f32]) {
    for row in out.chunks_exact_mut(bias.len()) {
        row.copy_from_slice(bias);
    }
}

/// Adds `bias` to every `bias.len()`-wide row of `out`.
pub fn add_rows(out: &mut [f32], bias: &[f32]) {
    for row in out.chunks_exact_mut(bias.len()) {
        for (x, b) in row.iter_mut().zip(bias) {
            *x += b;
        }
    }
}

/// Lanes of the reductions below: eight running sums (or maxima) side by side, so that the
/// compiler may use SIMD for them (it must not reorder one running sum of floats).
const LANES: usize = 8;

/// `f(x)` summed over `xs`.
#[inline(always)]
fn sum_of(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The largest of `xs` (−∞ for none).
#[inline(always)]
fn max_of(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = if v > *a { v } else { *a };
        }
    }
    acc.iter().copied().fold(tail, f32::max)
}

/// Layer normalisation of every `gamma.len()`-wide row of `x`, in place.
pub fn layer_norm(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let n = gamma.len() as f32;
    for row in x.chunks_exact_mut(gamma.len()) {
        let mean = sum_of(row, |v| v) / n;
        let var = sum_of(row, |v| (v - mean) * (v - mean)) / n;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

/// Softmax of every `width`-wide row of `x`, in place.
pub fn softmax_rows(x: &mut [f32], width: usize) {
    for row in x.chunks_exact_mut(width) {
        let max = max_of(row);
        for v in row.iter_mut() {
            *v = exp(*v - max);
        }
        let inv = 1.0 / sum_of(row, |v| v);
        for v in row.iter_mut() {
            *v *= inv;
        }
    }
}

/// The activation between a layer's two feed-forward products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `x · Φ(x)` with the exact normal CDF (Hugging Face `gelu`).
    Gelu,
    /// The tanh approximation of GELU (`gelu_new`, `gelu_pytorch_tanh`).
    GeluTanh,
    /// `max(x, 0)`.
    Relu,
}

impl Activation {
    /// Applies the activation to every element, in place.
    pub fn apply(self, x: &mut [f32]) {
        match self {
            Self::Gelu => x
                .iter_mut()
                .for_each(|v| *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2))),
            Self::GeluTanh => {
                const C: f32 = 0.797_884_6; // sqrt(2 / pi)
                x.iter_mut().for_each(|v| {
                    let u = C * (*v + 0.044_715 * *v * *v * *v);
                    *v = 0.5 * *v * (1.0 + tanh(u));
                });
            }
            Self::Relu => x.iter_mut().for_each(|v| *v = v.max(0.0)),
        }
    }
}

/// `e^x` to about 1 ulp over the range where it is a normal `f32`, without branches or calls.
/// Below about −87 the result is the smallest normal rather than a subnormal or zero, which no
/// softmax can tell apart.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // 1.5 · 2^23: adding it rounds to the nearest integer, which lands in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    // x − n·ln 2, with ln 2 split in two so the product is exact.
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = ((((1.987_569_2e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let e = p * r * r + r + 1.0;
    let k = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    e * f32::from_bits((k.wrapping_add(127) as u32) << 23)
}

/// `tanh`, through [`exp`].
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let x = x.clamp(-9.0, 9.0);
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

/// The error function to within about 2·10⁻⁷, as a rational polynomial on [−4, 4] (outside it
/// `erf` is ±1 in `f32`).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10 * x2 + 2.770_681_4e-8;
    p = p * x2 - 2.101_024e-6;
    p = p * x2 - 5.692_506_4e-5;
    p = p * x2 - 7.349_906_3e-4;
    p = p * x2 - 2.954_6e-3;
    p = p * x2 - 1.609_603_3e-2;
    let mut q = -1.456_607_2e-5 * x2 - 2.133_740_6e-4;
    q = q * x2 - 1.682_827e-3;
    q = q * x2 - 7.373_329e-3;
    q = q * x2 - 1.426_474e-2;
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its Taylor series in f64: exact enough on [−5, 5] to judge an f32 approximation.
    fn erf_reference(x: f64) -> f64 {
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        (sum * 2.0 / std::f64::consts::PI.sqrt()).clamp(-1.0, 1.0)
    }

    #[test]
    fn erf_matches_the_series() {
        let worst = (-5000..=5000)
            .map(|i| i as f64 / 1000.0)
            .map(|x| (erf(x as f32) as f64 - erf_reference(x)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 5e-7, "worst error {worst}");
    }

    #[test]
    fn exp_matches_std_in_relative_terms() {
        let worst = (-8700..=8800)
            .map(|i| i as f32 / 100.0)
            .map(|x| ((exp(x) as f64 - (x as f64).exp()) / (x as f64).exp()).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "worst relative error {worst}");
        assert!(exp(-1000.0) < 1e-37 && exp(-1000.0) >= 0.0);
    }

    #[test]
    fn tanh_and_activations_match_std() {
        for i in -1000..=1000 {
            let x = i as f32 / 100.0;
            assert!((tanh(x) - x.tanh()).abs() < 1e-6, "tanh({x})");
        }
        let mut v = vec![-1.0, 0.0, 1.0, 3.0];
        Activation::Gelu.apply(&mut v);
        let want = [-0.158_655_26, 0.0, 0.841_344_7, 2.995_950_5];
        for (g, w) in v.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{v:?}");
        }
        let mut r = vec![-2.0, 2.0];
        Activation::Relu.apply(&mut r);
        assert_eq!(r, [0.0, 2.0]);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_survive_large_inputs() {
        let mut x = vec![1000.0, 1001.0, 999.0, -5.0, 0.0, 5.0];
        softmax_rows(&mut x, 3);
        for row in x.chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        assert!(x[1] > x[0] && x[0] > x[2]);
        assert!((x[5] - 0.993_262).abs() < 1e-5, "{x:?}");
    }

    #[test]
    fn layer_norm_centres_and_scales_each_row() {
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0];
        layer_norm(&mut x, &[1.0; 4], &[0.5; 4], 1e-12);
        let row = &x[..4];
        assert!((row.iter().sum::<f32>() / 4.0 - 0.5).abs() < 1e-6);
        assert!((row[3] - row[0] - 2.683_281_6).abs() < 1e-5, "{row:?}");
        assert!(x[4..].iter().all(|v| (v - 0.5).abs() < 1e-6));
    }

    /// The naive triple loop, for checking gemm through every kind of view.
    fn naive(a: &[f32], av: View, b: &[f32], bv: View) -> Vec<f32> {
        let mut out = vec![0.0; av.rows * bv.cols];
        for i in 0..av.rows {
            for j in 0..bv.cols {
                out[i * bv.cols + j] = (0..av.cols)
                    .map(|k| {
                        a[i * av.row_stride + k * av.col_stride]
                            * b[k * bv.row_stride + j * bv.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn matmul_agrees_with_the_naive_product_through_strided_and_transposed_views() {
        let a: Vec<f32> = (0..7 * 10).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
        let b: Vec<f32> = (0..10 * 9).map(|i| ((i * 13) % 7) as f32 - 3.0).collect();
        // A 7×4 column block of a 7×10 matrix, times a 4×9 block read as the transpose of 9×10.
        let av = View::rows_of(7, 4, 10);
        let bv = View::rows_of(9, 4, 10).t();
        let want = naive(&a, av, &b, bv);
        let mut out = vec![1.0; 7 * 9];
        matmul(
            &mut out,
            View::dense(7, 9),
            Mat(&a, av),
            Mat(&b, bv),
            0.5,
            true,
        );
        for (o, w) in out.iter().zip(&want) {
            assert!((o - (1.0 + 0.5 * w)).abs() < 1e-4);
        }
        matmul(
            &mut out,
            View::dense(7, 9),
            Mat(&a, av),
            Mat(&b, bv),
            1.0,
            false,
        );
        assert_eq!(out, want);
    }

    #[test]
    fn the_few_rows_kernel_agrees_with_the_naive_product_for_every_row_count() {
        // Columns 16..53 of a 60-wide weight matrix (two whole blocks and five left over), rows
        // 3.. of the input with a wider stride, written into a wider output.
        let (inner, cols, w_stride, x_stride, out_stride) = (21, 37, 60, 25, 40);
        let w: Vec<f32> = (0..inner * w_stride)
            .map(|i| ((i * 13) % 17) as f32 / 8.0 - 1.0)
            .collect();
        let bv = View::rows_of(inner, cols, w_stride);
        for rows in 1..=FEW_ROWS {
            let x: Vec<f32> = (0..(rows + 3) * x_stride)
                .map(|i| ((i * 7) % 11) as f32 / 4.0 - 1.2)
                .collect();
            let av = View::rows_of(rows, inner, x_stride);
            let want = naive(&x[3 * x_stride..], av, &w[16..], bv);
            let ov = View::rows_of(rows, cols, out_stride);
            for (scale, accumulate) in [(1.0, false), (0.5, true)] {
                let mut out = vec![2.0; rows * out_stride];
                let ran = few_rows::add_product(
                    &mut out,
                    out_stride,
                    (&x[3 * x_stride..], x_stride),
                    (&w[16..], w_stride),
                    (rows, inner, cols),
                    scale,
                    accumulate,
                );
                #[cfg(target_arch = "x86_64")]
                assert_eq!(
                    ran,
                    std::arch::is_x86_feature_detected!("avx2")
                        && std::arch::is_x86_feature_detected!("fma"),
                    "the kernel runs wherever the CPU can"
                );
                if !ran {
                    return;
                }
                for i in 0..rows {
                    for j in 0..cols {
                        let base = if accumulate { 2.0 } else { 0.0 };
                        let expect = base + scale * want[i * cols + j];
                        let got = out[i * out_stride + j];
                        assert!(
                            (got - expect).abs() < 1e-3,
                            "{rows} rows, ({i}, {j}): {got} != {expect}"
                        );
                    }
                    assert!(
                        out[i * out_stride + cols..(i + 1) * out_stride]
                            .iter()
                            .all(|&v| v == 2.0),
                        "{rows} rows: a column past the product was written"
                    );
                }
                // And `matmul` takes this path with the same result.
                let mut through = vec![2.0; rows * out_stride];
                matmul(
                    &mut through,
                    ov,
                    Mat(&x[3 * x_stride..], av),
                    Mat(&w[16..], bv),
                    scale,
                    accumulate,
                );
                assert_eq!(through, out);
            }
        }
    }

    #[test]
    #[should_panic(expected = "right view past its slice")]
    fn matmul_refuses_a_view_past_its_slice() {
        let mut out = vec![0.0; 4];
        matmul(
            &mut out,
            View::dense(2, 2),
            Mat(&[0.0; 4], View::dense(2, 2)),
            Mat(&[0.0; 3], View::dense(2, 2)),
            1.0,
            false,
        );
    }
}
