//! A small deterministic generator (xorshift64*) for the store's randomised tests: the cases
//! are the same every run, and no test depends on a crate's idea of randomness.

pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(super) fn chance(&mut self, in_ten: u64) -> bool {
        self.below(10) < in_ten
    }
}
