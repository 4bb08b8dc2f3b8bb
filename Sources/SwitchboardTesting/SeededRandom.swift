import SwitchboardSimulator

/// The seeded random source tests use: the simulator's SplitMix64, so a test and the simulator
/// draw from the same well-known generator.
public typealias SeededRandom = SplitMix64
