/// The generator's only source of randomness: xoshiro256** (D. Blackman and S. Vigna, 2018,
/// https://prng.di.unimi.it/xoshiro256starstar.c) seeded through SplitMix64
/// (https://prng.di.unimi.it/splitmix64.c), both public-domain algorithms written out here so a
/// seed gives the same numbers on every platform and Swift version (the standard library's
/// generators promise neither).
///
/// Every independent part of the model draws from its own stream, derived from the seed and a few
/// labels, so that for example the household count does not shift the numbers a household draws.
///
/// ```swift
/// var random = SeededRandom(seed: 42, labels: 1, 7)
/// random.next()           // a UInt64
/// random.uniform()        // [0, 1)
/// ```
struct SeededRandom: Sendable, Hashable {
    private var s0, s1, s2, s3: UInt64

    /// The stream for `seed` and `labels`; distinct labels give unrelated streams.
    init(seed: UInt64, labels: UInt64...) {
        var key = SplitMix64.mix(seed)
        for label in labels {
            key = SplitMix64.mix(key ^ SplitMix64.mix(label &+ 0x632B_E59B_D9B4_E019))
        }
        var seeder = SplitMix64(state: key)
        self.init(state: (seeder.next(), seeder.next(), seeder.next(), seeder.next()))
    }

    /// A generator with the given raw xoshiro256** state (not all zero).
    init(state: (UInt64, UInt64, UInt64, UInt64)) {
        (s0, s1, s2, s3) = state
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// Uniform in [0, 1), with 53 random bits.
    mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// Uniform integer in 0..<count (count > 0), by Lemire's multiply-and-reject method.
    mutating func below(_ count: Int) -> Int {
        precondition(count > 0)
        let bound = UInt64(count)
        let threshold = (0 &- bound) % bound
        while true {
            let (high, low) = next().multipliedFullWidth(by: bound)
            if low >= threshold { return Int(high) }
        }
    }

    /// Uniform in [−√3, √3): mean 0, variance 1.
    mutating func unitVariance() -> Double {
        (2 * uniform() - 1) * 1.7320508075688772
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

/// SplitMix64 (G. Steele, D. Lea, C. Flood, 2014), as used to seed xoshiro.
struct SplitMix64: Sendable, Hashable {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The output function (a bijection of 64-bit values).
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
