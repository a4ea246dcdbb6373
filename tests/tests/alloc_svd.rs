//! The SVD and the EGD direction allocate nothing: a counting global
//! allocator sees zero allocations during the calls, for f32 and f64 and
//! several shapes (tall, wide, square; Jacobi and Newton–Schulz).

use egd_core::polar::{PolarConfig, polar, polar_in_place};
use egd_core::svd::{SvdConfig, SvdWorkspace, svd};
use egd_core::{Matrix, Real};
use egd_tests::SplitMix64;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers to `System`; only counts calls on the current thread.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = COUNT.with(Cell::get);
    f();
    COUNT.with(Cell::get) - before
}

fn shape<
    T: Real,
    const R: usize,
    const C: usize,
    const N: usize,
    const K: usize,
    const L: usize,
>(
    seed: u64,
) {
    let mut rng = SplitMix64(seed);
    let g = Box::new(Matrix::<T, R, C>::from_fn(|_, _| T::from_f64(rng.normal())));
    let mut ws = Box::new(SvdWorkspace::<T, K, L>::new());
    let mut out = Box::new(Matrix::<T, R, C>::zeros());
    let mut u = Box::new(Matrix::<T, R, N>::zeros());
    let mut v = Box::new(Matrix::<T, C, N>::zeros());
    let mut s = [T::ZERO; N];
    let mut g2 = g.clone();
    let n = allocations_during(|| {
        svd(&*g, &mut ws, &SvdConfig::default(), &mut u, &mut s, &mut v).unwrap();
        for cfg in [
            PolarConfig::default(),
            PolarConfig::paper(),
            PolarConfig::newton_schulz(),
        ] {
            polar(&*g, &mut out, &mut ws, &cfg).unwrap();
            polar_in_place(&mut g2, &mut ws, &cfg).unwrap();
        }
    });
    assert_eq!(n, 0, "{R}x{C} allocated {n} times");
}

#[test]
fn svd_and_polar_allocate_nothing() {
    // Sanity: the counter sees allocations.
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 16]))) > 0);
    shape::<f32, 8, 8, 8, 8, 8>(1);
    shape::<f64, 8, 8, 8, 8, 8>(2);
    shape::<f32, 64, 16, 16, 16, 64>(3);
    shape::<f64, 16, 64, 16, 16, 64>(4);
    shape::<f32, 46, 64, 46, 46, 64>(5);
    shape::<f64, 33, 17, 17, 17, 33>(6);
}
