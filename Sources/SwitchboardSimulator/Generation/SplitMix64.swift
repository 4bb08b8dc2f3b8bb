/// A small, fast, seedable random number generator (Steele, Lea and Flood's SplitMix64).
///
/// The simulator's content, faults and ids come from it, so a seed reproduces a run. Tests use it as
/// their seeded random source.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// FNV-1a, 64-bit: a stable hash of bytes for seeding and prompt-prefix identity (Swift's `Hasher`
/// is randomly seeded per process, so it cannot give reproducible output).
struct StableHash: Sendable {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
    }

    mutating func combine(_ string: String) { combine(string.utf8) }

    mutating func combine(_ number: UInt64) {
        withUnsafeBytes(of: number.littleEndian) { combine($0) }
    }

    static func of(_ parts: String...) -> UInt64 {
        var hash = StableHash()
        for part in parts {
            hash.combine(part)
            hash.combine([0])
        }
        return hash.value
    }
}
