@testable import Domain
import XCTest

final class FetchOptionsTests: XCTestCase {
    func testNoOptionsAreStoredAsNull() {
        XCTAssertNil(FetchOptions().stored())
        XCTAssertEqual(FetchOptions.stored(nil), FetchOptions())
        XCTAssertEqual(FetchOptions.stored("not json"), FetchOptions())
    }

    func testOptionsRoundTripThroughTheColumn() throws {
        let options = FetchOptions(format: .mkv, audioOnly: false, maxHeight: 720, clipStart: 1.5, clipEnd: 9,
                                   subtitles: ["en", "pt-BR"], subtitleMode: .sidecar, filename: "Talk")
        try options.validate()
        XCTAssertEqual(FetchOptions.stored(try XCTUnwrap(options.stored())), options)
    }

    func testAudioContainersImplyAudioOnly() {
        XCTAssertTrue(FetchOptions(format: .mp3).wantsAudioOnly)
        XCTAssertFalse(FetchOptions(format: .webm).wantsAudioOnly)
        XCTAssertTrue(FetchOptions(audioOnly: true).wantsAudioOnly)
    }

    func testEachRuleRefusesAtItsEdge() {
        func refused(_ options: FetchOptions, _ words: String, line: UInt = #line) {
            XCTAssertThrowsError(try options.validate(), line: line) { error in
                guard case DomainError.invalid(let message) = error else { return XCTFail("\(error)", line: line) }
                XCTAssertTrue(message.contains(words), message, line: line)
            }
        }
        refused(FetchOptions(maxHeight: 721), "max_resolution")
        refused(FetchOptions(clipStart: -0.001), "start_time")
        refused(FetchOptions(clipEnd: .infinity), "end_time")
        refused(FetchOptions(clipEnd: 86_400.5), "end_time")
        refused(FetchOptions(clipStart: 5, clipEnd: 5), "after start_time")
        refused(FetchOptions(subtitles: Array(repeating: "en", count: 11)), "at most 10")
        refused(FetchOptions(subtitles: ["--exec"]), "not a language code")
        refused(FetchOptions(subtitles: ["e"]), "not a language code")
        refused(FetchOptions(filename: "   "), "filename")
        // Readable but too long: the field rules' 422, like every over-long text field.
        XCTAssertThrowsError(try FetchOptions(filename: String(repeating: "a", count: 256)).validate()) { error in
            guard case DomainError.unprocessable(let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "filename is longer than 255 bytes")
        }
        XCTAssertNoThrow(try FetchOptions(maxHeight: 144, clipStart: 0, clipEnd: 86_400, subtitles: Array(repeating: "zh-Hans", count: 10),
                                          filename: String(repeating: "a", count: 255)).validate())
    }
}
