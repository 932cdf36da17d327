//! `exp`, `sigmoid` and `tanh` written so that the compiler vectorizes loops over them (libm's
//! `expf` is a scalar call per element and was 12% of a training step), plus a runtime switch to
//! AVX2+FMA code for the element-wise loops of the fused kernels.

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two so that `n * LN2_HI` is exact for the `n` that occur.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
const ROUND: f32 = 12_582_912.0;

/// `e^x` to ~2 ulp for `x` in [-87, 88]; the input is clamped there (below, the result is
/// ~1e-38 instead of a subnormal or 0; above, ~1.6e38 instead of infinity), which is what the
/// sigmoid and tanh built on it need.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Taylor to r^6 on |r| <= ln2 / 2: truncation below 3e-8 relative.
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // The integer n sits in t's low mantissa bits; 2^n is built by placing n + 127 in the
    // exponent field.
    let n_bits = t.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    p * f32::from_bits(((n_bits + 127) as u32) << 23)
}

#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x) = 1 - 2 / (1 + e^{2x})`: absolute error ~1e-7, which is what an f32 tanh near 0
/// has anyway relative to the values it is added to.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (1.0 + exp(2.0 * x))
}

thread_local! {
    static BASELINE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread runs the baseline (non-AVX2) copies; see [`with_baseline`].
pub fn baseline_forced() -> bool {
    BASELINE_ONLY.with(|b| b.get())
}

/// Runs `f` with the kernels' baseline copies on this thread, so that tests on AVX2 machines
/// cover them too.
pub fn with_baseline<T>(f: impl FnOnce() -> T) -> T {
    with_flag(&BASELINE_ONLY, f)
}

/// Runs `f` with a thread-local switch on, restoring it afterwards (also if `f` panics).
pub(crate) fn with_flag<T>(
    flag: &'static std::thread::LocalKey<std::cell::Cell<bool>>,
    f: impl FnOnce() -> T,
) -> T {
    struct Restore(&'static std::thread::LocalKey<std::cell::Cell<bool>>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            self.0.with(|b| b.set(self.1));
        }
    }
    let _restore = Restore(flag, flag.with(|b| b.replace(true)));
    f()
}

/// Runs `$body` (a block using only inlined arithmetic) compiled twice, once for AVX2+FMA and
/// once for the baseline target, picking at run time. The crate is built for baseline x86-64
/// (SSE2), where a loop over [`exp`] runs 4 lanes wide; AVX2 doubles that.
macro_rules! simd_dispatch {
    ($(#[$doc:meta])* $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $body:block) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
        pub fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn wide($($arg: $ty),*) $body
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                    && !$crate::kernels::fast_math::baseline_forced()
                {
                    // SAFETY: the CPU has just been checked for the features `wide` uses.
                    return unsafe { wide($($arg),*) };
                }
            }
            fn narrow($($arg: $ty),*) $body
            narrow($($arg),*)
        }
    };
}
pub(crate) use simd_dispatch;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_within_a_few_ulp() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let got = exp(x) as f64;
            let want = (x as f64).exp();
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 4e-7, "worst relative error {worst:e}");
    }

    #[test]
    fn sigmoid_and_tanh_match_std() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.01;
            let s = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((sigmoid(x) as f64 - s).abs() < 2e-7, "sigmoid({x})");
            assert!(
                (tanh(x) as f64 - (x as f64).tanh()).abs() < 3e-7,
                "tanh({x})"
            );
        }
        assert!((0.0..1e-37).contains(&sigmoid(-200.0)));
        assert!(sigmoid(200.0) == 1.0 && tanh(200.0) == 1.0 && tanh(-200.0) == -1.0);
    }
}
