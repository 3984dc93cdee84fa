import XCTest
import Foundation

/// The one generator every randomized test uses (SplitMix64).
///
/// A run has one seed: `FETCHGATE_TEST_SEED` (decimal or `0x` hex) when set, otherwise a fresh one.
/// Each test draws from its own stream, derived from the run's seed and the test's name, so a test
/// replays alone and in any order. When a test that drew from it fails, the seed is printed with
/// the command that replays the run:
///
///     FETCHGATE_TEST_SEED=1234 swift test --filter DateTimeTests/testRoundTripRandomTimestamps
public struct TestRNG: RandomNumberGenerator {
    /// The seed of this run (see the type's comment).
    public static let runSeed: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["FETCHGATE_TEST_SEED"], let seed = parseSeed(text) {
            return seed
        }
        var system = SystemRandomNumberGenerator()
        return system.next() >> 16  // short enough to copy from a log line
    }()

    private var state: UInt64

    /// A generator from a fixed state, for code that needs a stream of its own.
    public init(seed: UInt64) {
        state = seed
    }

    /// `test`'s generator: the run's seed mixed with the test's name (and `stream`, for a test that
    /// wants more than one independent generator). The seed is printed if the test fails.
    public init(_ test: XCTestCase, stream: UInt64 = 0) {
        let name = test.name
        var mixer = TestRNG(seed: TestRNG.runSeed ^ fnv1a(name) ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        self.init(seed: mixer.next())
        test.addTeardownBlock { [weak test] in
            guard let run = test?.testRun, run.totalFailureCount > 0 else { return }
            print("TestRNG: \(name) failed with FETCHGATE_TEST_SEED=\(TestRNG.runSeed); replay it with "
                  + "FETCHGATE_TEST_SEED=\(TestRNG.runSeed) swift test --filter \(filterName(name))")
        }
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<bound (bound > 0).
    public mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    static func parseSeed(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased().hasPrefix("0x") { return UInt64(trimmed.dropFirst(2), radix: 16) }
        return UInt64(trimmed)
    }
}

/// 64-bit FNV-1a: a stable hash of a test's name (Swift's `Hasher` is seeded per process).
private func fnv1a(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    return hash
}

/// `-[ProberTests testX]` (Darwin) or `ProberTests.testX` (Linux) as `swift test --filter` wants it.
private func filterName(_ name: String) -> String {
    let bare = name.trimmingCharacters(in: CharacterSet(charactersIn: "-[]"))
    return bare.replacingOccurrences(of: " ", with: "/").replacingOccurrences(of: ".", with: "/")
}
