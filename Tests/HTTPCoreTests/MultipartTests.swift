import XCTest
@testable import HTTPCore
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class MultipartTests: XCTestCase {
    private let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    private var tempPaths: [String] = []

    override func tearDown() {
        for path in tempPaths { unlink(path) }
        tempPaths = []
        super.tearDown()
    }

    // MARK: - Helpers

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    private func tempPath(_ tag: String) -> String {
        let path = "/tmp/multipart-test-\(getpid())-\(tempPaths.count)-\(tag)"
        unlink(path)
        tempPaths.append(path)
        return path
    }

    private func writeFile(_ data: [UInt8], tag: String = "body") -> String {
        let path = tempPath(tag)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0)
        var written = 0
        data.withUnsafeBytes { raw in
            while written < data.count {
                let n = write(fd, raw.baseAddress! + written, data.count - written)
                precondition(n > 0)
                written += n
            }
        }
        close(fd)
        return path
    }

    private func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Builds a body; each part is (headers, content).
    private func body(_ parts: [(String, [UInt8])], boundary: String? = nil, preamble: String = "", epilogue: String = "") -> [UInt8] {
        let b = boundary ?? self.boundary
        var out = bytes(preamble)
        if !preamble.isEmpty { out += bytes("\r\n") }
        for (headers, content) in parts {
            out += bytes("--\(b)\r\n\(headers)\r\n\r\n")
            out += content
            out += bytes("\r\n")
        }
        out += bytes("--\(b)--")
        out += bytes(epilogue)
        return out
    }

    private func content(_ data: [UInt8], _ part: Multipart.Part) -> [UInt8] {
        Array(data[part.bodyOffset..<(part.bodyOffset + part.bodyLength)])
    }

    /// Parses in memory and from a file with several buffer sizes; all must agree.
    private func parseEverywhere(_ data: [UInt8], boundary: String? = nil,
                                 file: StaticString = #filePath, line: UInt = #line) -> Result<[Multipart.Part], Multipart.ParseError> {
        let b = boundary ?? self.boundary
        let memory = Result { () throws(Multipart.ParseError) in try Multipart.parts(in: data, boundary: b) }
        let path = writeFile(data)
        for size in [1, 2, 7, 64, 65536] {
            let fromFile = Result { () throws(Multipart.ParseError) in
                try Multipart.parts(inFileAt: path, boundary: b, bufferSize: size)
            }
            XCTAssertEqual(fromFile, memory, "bufferSize \(size)", file: file, line: line)
        }
        return memory
    }

    private func parts(_ data: [UInt8], boundary: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) -> [Multipart.Part] {
        switch parseEverywhere(data, boundary: boundary, file: file, line: line) {
        case .success(let parts): return parts
        case .failure(let error):
            XCTFail("unexpected error: \(error.message)", file: file, line: line)
            return []
        }
    }

    private func error(_ data: [UInt8], boundary: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) -> String? {
        switch parseEverywhere(data, boundary: boundary, file: file, line: line) {
        case .success(let parts):
            XCTFail("expected an error, got \(parts)", file: file, line: line)
            return nil
        case .failure(let error): return error.message
        }
    }

    // MARK: - boundary(fromContentType:)

    func testBoundaryFromContentType() {
        XCTAssertEqual(Multipart.boundary(fromContentType: "multipart/form-data; boundary=abc123"), "abc123")
        XCTAssertEqual(Multipart.boundary(fromContentType: "Multipart/Form-Data; BOUNDARY=abc"), "abc")
        XCTAssertEqual(Multipart.boundary(fromContentType: "multipart/form-data;boundary=\"a b;c\""), "a b;c")
        XCTAssertEqual(Multipart.boundary(fromContentType: "multipart/form-data; charset=utf-8; boundary=xyz"), "xyz")
        XCTAssertEqual(Multipart.boundary(fromContentType: "  multipart/form-data ; boundary = xyz ; charset=utf-8"), "xyz")
        XCTAssertNil(Multipart.boundary(fromContentType: "multipart/mixed; boundary=abc"))
        XCTAssertNil(Multipart.boundary(fromContentType: "application/x-www-form-urlencoded"))
        XCTAssertNil(Multipart.boundary(fromContentType: "multipart/form-data"))
        XCTAssertNil(Multipart.boundary(fromContentType: "multipart/form-data; boundary="))
        XCTAssertNil(Multipart.boundary(fromContentType: "multipart/form-data; boundary=\"\""))
        XCTAssertNil(Multipart.boundary(fromContentType: ""))
        XCTAssertNil(Multipart.boundary(fromContentType: "multipart/form-data; xboundary=abc"))
    }

    // MARK: - Parsing

    func testSingleFilePart() {
        let file = bytes("hello, world\n")
        let data = body([("Content-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\nContent-Type: text/plain", file)])
        let result = parts(data)
        XCTAssertEqual(result.count, 1)
        XCTAssertEqual(result.first?.name, "file")
        XCTAssertEqual(result.first?.filename, "hello.txt")
        XCTAssertEqual(result.first?.contentType, "text/plain")
        XCTAssertEqual(result.first.map { content(data, $0) }, file)
        let headerText = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\nContent-Type: text/plain\r\n\r\n"
        XCTAssertEqual(result.first?.bodyOffset, headerText.utf8.count)
    }

    func testTextFieldAndFilePart() {
        let data = body([
            ("Content-Disposition: form-data; name=\"title\"", bytes("Carrot Juice")),
            ("content-disposition: form-data; name=upload; filename=data.bin\r\ncontent-type: application/octet-stream",
             [0, 1, 2, 255]),
        ])
        let result = parts(data)
        XCTAssertEqual(result.count, 2)
        XCTAssertEqual(result[0], Multipart.Part(name: "title", bodyOffset: result[0].bodyOffset, bodyLength: 12))
        XCTAssertEqual(content(data, result[0]), bytes("Carrot Juice"))
        XCTAssertEqual(result[1].name, "upload")
        XCTAssertEqual(result[1].filename, "data.bin")
        XCTAssertEqual(result[1].contentType, "application/octet-stream")
        XCTAssertEqual(content(data, result[1]), [0, 1, 2, 255])
    }

    func testEmptyContentAndEmptyFilename() {
        let data = body([
            ("Content-Disposition: form-data; name=\"empty\"", []),
            ("Content-Disposition: form-data; name=\"f\"; filename=\"\"\r\nContent-Type: application/octet-stream", []),
        ])
        let result = parts(data)
        XCTAssertEqual(result.map(\.bodyLength), [0, 0])
        XCTAssertEqual(result[1].filename, "")
    }

    func testBinaryContentWithDashesAndPartialBoundaries() {
        var file: [UInt8] = []
        file += bytes("--\r\n--")
        file += bytes("\r\n--\(boundary.dropLast())")  // boundary missing its last character
        file += bytes("\r\n-\(boundary)")  // one dash only
        file += bytes("\r--\(boundary)")  // CR without LF
        file += bytes("\n--\(boundary)")  // LF without CR
        file += bytes("\r\n--\(boundary)X")  // boundary followed by other text: content
        file += bytes("\r\n--\(boundary)-x")  // a single dash: content
        file += bytes("\r\n--\(boundary) \t z")  // padding not followed by CRLF: content
        file += bytes("\r\n--\(boundary)  \rx")  // CR without LF after padding: content
        file += (0...255).map { UInt8($0) }
        file += bytes("\r\n\r\n--")
        let data = body([
            ("Content-Disposition: form-data; name=\"f\"; filename=\"x.bin\"", file),
            ("Content-Disposition: form-data; name=\"after\"", bytes("ok")),
        ])
        let result = parts(data)
        XCTAssertEqual(result.count, 2)
        XCTAssertEqual(content(data, result[0]), file)
        XCTAssertEqual(content(data, result[1]), bytes("ok"))
    }

    func testCRLFHeavyContent() {
        let file = bytes("\r\n\r\n\r\n\r\r\n\n\r\n--\r\n\r\n")
        let data = body([("Content-Disposition: form-data; name=\"f\"", file), ("Content-Disposition: form-data; name=\"g\"", bytes("\r\n"))])
        let result = parts(data)
        XCTAssertEqual(result.count, 2)
        XCTAssertEqual(content(data, result[0]), file)
        XCTAssertEqual(content(data, result[1]), bytes("\r\n"))
    }

    func testPreambleAndEpilogue() {
        let data = body([("Content-Disposition: form-data; name=\"a\"", bytes("1"))],
                        preamble: "This is the preamble.\r\nIt mentions --\(boundary)X but not as a delimiter.",
                        epilogue: "\r\nThis is the epilogue.\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n")
        let result = parts(data)
        XCTAssertEqual(result.map(\.name), ["a"])
        XCTAssertEqual(content(data, result[0]), bytes("1"))
    }

    func testTransportPaddingAfterBoundary() {
        let data = bytes("--\(boundary)  \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--\(boundary) \r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nw\r\n--\(boundary)--\r\n")
        let result = parts(data)
        XCTAssertEqual(result.map(\.name), ["a", "b"])
        XCTAssertEqual(result.map { content(data, $0) }, [bytes("v"), bytes("w")])
    }

    func testQuotedBoundaryEndToEnd() {
        let contentType = "multipart/form-data; boundary=\"simple boundary\""
        guard let b = Multipart.boundary(fromContentType: contentType) else { return XCTFail("no boundary") }
        let data = body([("Content-Disposition: form-data; name=\"q\"", bytes("quoted"))], boundary: b)
        let result = parts(data, boundary: b)
        XCTAssertEqual(result.count, 1)
        XCTAssertEqual(content(data, result[0]), bytes("quoted"))
    }

    func testHeaderParameters() {
        let data = body([
            ("Content-Disposition: form-data; filename=\"C:\\\\path\\\\x.txt\"; name=\"a\"", []),
            ("Content-Disposition: form-data; name=\"b\"; filename=\"plain.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt", []),
            ("Content-Disposition: form-data; name=\"c\"; filename=\"say \\\"hi\\\".txt\"", []),
            ("Content-Disposition: form-data; name=\"d\"; filename=\"C:\\Users\\me\\résumé.pdf\"", []),
            ("Content-Disposition: form-data; name=\"e\"; filename*=iso-8859-1'en'%A3%20rates", []),
            ("Content-Disposition:form-data;name=\"f\"\r\nContent-Type:  image/png ", []),
            ("Content-Type: text/plain\r\nX-Other: 1\r\nContent-Disposition: form-data;\r\n name=\"folded\"", []),
        ])
        let result = parts(data)
        XCTAssertEqual(result.map(\.name), ["a", "b", "c", "d", "e", "f", "folded"])
        XCTAssertEqual(result[0].filename, "C:\\path\\x.txt")
        XCTAssertEqual(result[1].filename, "€ rates.txt")
        XCTAssertEqual(result[2].filename, "say \"hi\".txt")
        XCTAssertEqual(result[3].filename, "C:\\Users\\me\\résumé.pdf")
        XCTAssertEqual(result[4].filename, "£ rates")
        XCTAssertEqual(result[5].contentType, "image/png")
        XCTAssertNil(result[5].filename)
        XCTAssertEqual(result[6].contentType, "text/plain")
    }

    func testPartWithoutHeadersIsRejected() {
        let data = bytes("--\(boundary)\r\n\r\ncontent\r\n--\(boundary)--")
        XCTAssertEqual(error(data), "part without Content-Disposition name")
        let noName = body([("Content-Disposition: form-data; filename=\"x\"", bytes("x"))])
        XCTAssertEqual(error(noName), "part without Content-Disposition name")
    }

    func testTruncatedBody() {
        let full = body([("Content-Disposition: form-data; name=\"f\"; filename=\"a\"", [UInt8](repeating: 65, count: 300))])
        // Every proper prefix is an error, never a crash.
        for cut in stride(from: 0, to: full.count - 1, by: 1) {
            let prefix = Array(full[0..<cut])
            if case .success(let parts) = Result(catching: { () throws(Multipart.ParseError) in
                try Multipart.parts(in: prefix, boundary: boundary)
            }) {
                XCTFail("prefix of \(cut) bytes parsed as \(parts)")
            }
        }
        XCTAssertEqual(error(Array(full[0..<200])), "truncated multipart body")
        let headersCut = bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"f\"\r\n")
        XCTAssertEqual(error(headersCut), "truncated multipart body")
    }

    func testMissingFinalDelimiter() {
        let open = bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--\(boundary)\r\n")
        XCTAssertEqual(error(open), "truncated multipart body")
        let noDelimiter = bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n")
        XCTAssertEqual(error(noDelimiter), "truncated multipart body")
        let oneDash = bytes("--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--\(boundary)-")
        XCTAssertEqual(error(oneDash), "truncated multipart body")
    }

    func testMissingBoundary() {
        XCTAssertEqual(error([]), "missing boundary")
        XCTAssertEqual(error(bytes("just some text")), "missing boundary")
        XCTAssertEqual(error(body([("Content-Disposition: form-data; name=\"a\"", [])], boundary: "other")), "missing boundary")
    }

    func testOnlyCloseDelimiter() {
        XCTAssertEqual(parts(bytes("--\(boundary)--\r\n")), [])
    }

    func testBoundaryLengthLimits() {
        let data = body([("Content-Disposition: form-data; name=\"a\"", [])], boundary: String(repeating: "b", count: 70))
        XCTAssertEqual(parts(data, boundary: String(repeating: "b", count: 70)).count, 1)
        XCTAssertThrowsError(try Multipart.parts(in: data, boundary: String(repeating: "b", count: 71)))
        XCTAssertThrowsError(try Multipart.parts(in: data, boundary: ""))
        let path = writeFile(data)
        XCTAssertThrowsError(try Multipart.parts(inFileAt: path, boundary: String(repeating: "b", count: 71)))
        XCTAssertThrowsError(try Multipart.parts(inFileAt: path, boundary: ""))
    }

    func testHeaderBlockLimit() {
        let padding = String(repeating: "x", count: 16 * 1024)
        let big = body([("Content-Disposition: form-data; name=\"a\"\r\nX-Pad: \(padding)", [])])
        XCTAssertEqual(error(big), "part header block larger than 16 KiB")
        let fits = body([("Content-Disposition: form-data; name=\"a\"\r\nX-Pad: \(padding.dropFirst(100))", bytes("v"))])
        XCTAssertEqual(parts(fits).count, 1)
    }

    func testPartCountLimit() {
        let field = ("Content-Disposition: form-data; name=\"f\"", bytes("v"))
        XCTAssertEqual(parts(body(Array(repeating: field, count: 100))).count, 100)
        XCTAssertEqual(error(body(Array(repeating: field, count: 101))), "more than 100 parts")
    }

    func testUnopenableFile() {
        XCTAssertThrowsError(try Multipart.parts(inFileAt: "/nonexistent/dir/body", boundary: "abc")) { error in
            XCTAssertEqual((error as? Multipart.ParseError)?.message, "cannot open multipart body file")
        }
    }

    func testFileAndMemoryAgreeOnRandomBodies() {
        var rng = TestRNG(self)
        let b = "xYz"
        for round in 0..<60 {
            var partsSpec: [(String, [UInt8])] = []
            for i in 0..<Int(rng.next() % 5) + 1 {
                var content: [UInt8] = []
                let length = Int(rng.next() % 200)
                let pieces: [[UInt8]] = [bytes("\r\n"), bytes("--"), bytes("\r\n--xY"), bytes("\r\n--xYz!"),
                                         bytes("\r\n--xYz -"), bytes("\r\n--xYz-"), [0], [255], bytes("x")]
                while content.count < length {
                    if rng.next() % 3 == 0 {
                        content += pieces[Int(rng.next() % UInt64(pieces.count))]
                    } else {
                        content.append(UInt8(truncatingIfNeeded: rng.next()))
                    }
                }
                // Content must not contain a real delimiter: break any "\r\n--xYz" not followed by "!".
                let delimiter = bytes("\r\n--xYz")
                var k = 0
                while k + delimiter.count <= content.count {
                    if Array(content[k..<(k + delimiter.count)]) == delimiter,
                       k + delimiter.count == content.count || content[k + delimiter.count] != UInt8(ascii: "!") {
                        content[k + delimiter.count - 1] = UInt8(ascii: "Z")
                    }
                    k += 1
                }
                partsSpec.append(("Content-Disposition: form-data; name=\"p\(i)\"; filename=\"f\(round).bin\"", content))
            }
            var data = body(partsSpec, boundary: b, preamble: rng.next() % 2 == 0 ? "pre--xY" : "")
            let corrupt = rng.next() % 4 == 0
            if corrupt {
                // Random corruption: cut or flip a byte. File and memory must still agree.
                let at = Int(rng.next() % UInt64(data.count))
                if rng.next() % 2 == 0 { data = Array(data[0..<at]) } else { data[at] ^= 0x5A }
            }
            let result = parseEverywhere(data, boundary: b)
            if !corrupt {
                guard case .success(let found) = result else {
                    XCTFail("round \(round): \(result)")
                    continue
                }
                XCTAssertEqual(found.map { content(data, $0) }, partsSpec.map(\.1), "round \(round)")
            }
        }
    }

    func testRandomBodiesRoundTripContent() {
        var rng = TestRNG(self)
        for _ in 0..<40 {
            var spec: [(String, [UInt8])] = []
            for i in 0..<Int(rng.next() % 4) + 1 {
                var content: [UInt8] = []
                for _ in 0..<Int(rng.next() % 300) {
                    content.append(rng.next() % 5 == 0 ? 13 : UInt8(truncatingIfNeeded: rng.next()))
                }
                spec.append(("Content-Disposition: form-data; name=\"n\(i)\"", content))
            }
            let data = body(spec)
            let found = parts(data)
            XCTAssertEqual(found.map(\.name), spec.map(\.0).indices.map { "n\($0)" })
            XCTAssertEqual(found.map { content(data, $0) }, spec.map(\.1))
        }
    }

    func testTokenSoupParsesTheSameEverywhere() {
        var rng = TestRNG(self)
        let b = "ab"
        let tokens: [[UInt8]] = [bytes("--ab"), bytes("\r\n"), bytes("--"), bytes("Content-Disposition: form-data; name=\"x\""),
                                 bytes(";filename*="), bytes("\""), bytes(":"), bytes(" "), [0], [0xFF]]
        var parsed = 0
        for _ in 0..<1000 {
            var data: [UInt8] = []
            for _ in 0..<Int(rng.next() % 24) {
                data += tokens[Int(rng.next() % UInt64(tokens.count))]
            }
            // Memory and file (every buffer size) agree; what parses is in order, inside the
            // body, and each part's content ends where a delimiter starts.
            guard case .success(let found) = parseEverywhere(data, boundary: b) else { continue }
            parsed += 1
            var end = 0
            for part in found {
                XCTAssertGreaterThanOrEqual(part.bodyOffset, end, "\(data)")
                end = part.bodyOffset + part.bodyLength
                guard end + 6 <= data.count else { XCTFail("part past the delimiter: \(part) in \(data)"); break }
                XCTAssertEqual(Array(data[end..<min(data.count, end + 6)]), bytes("\r\n--ab"), "\(data)")
            }
        }
        XCTAssertNotEqual(parsed, 0, "some of the token soup is a valid body")
    }

    func testLargeFileStreamsWithSmallBuffer() {
        var file = [UInt8](repeating: 0, count: 3 * 1024 * 1024 + 17)
        var rng = TestRNG(self)
        for i in stride(from: 0, to: file.count, by: 8) { file[i] = UInt8(truncatingIfNeeded: rng.next()) }
        let data = body([("Content-Disposition: form-data; name=\"big\"; filename=\"big.bin\"", file),
                         ("Content-Disposition: form-data; name=\"after\"", bytes("tail"))])
        let path = writeFile(data)
        for size in [4096, 65536] {
            let found = try? Multipart.parts(inFileAt: path, boundary: boundary, bufferSize: size)
            XCTAssertEqual(found?.count, 2)
            XCTAssertEqual(found?.first?.bodyLength, file.count)
            XCTAssertEqual(found.map { content(data, $0[1]) }, bytes("tail"))
        }
    }

    // MARK: - copyRange

    func testCopyRange() throws {
        var data = [UInt8](repeating: 0, count: 5 * 1024 * 1024)
        var rng = TestRNG(self)
        for i in data.indices { data[i] = UInt8(truncatingIfNeeded: rng.next() >> 13) }
        let source = writeFile(data, tag: "source")
        let cases: [(Int, Int)] = [(0, data.count), (1, 1), (7, 3 * 1024 * 1024 + 5), (1_048_577, 1_048_579),
                                   (data.count - 13, 13), (12_345, 0), (3, 2 * 1024 * 1024 + 1)]
        for (offset, length) in cases {
            let target = tempPath("copy")
            try Multipart.copyRange(fromFile: source, offset: offset, length: length, toFile: target)
            XCTAssertEqual(readFile(target), Array(data[offset..<(offset + length)]), "offset \(offset) length \(length)")
            var info = stat()
            XCTAssertEqual(stat(target, &info), 0)
            XCTAssertEqual(info.st_mode & 0o777 & ~0o640, 0, "mode at most 0640")
            XCTAssertNotEqual(info.st_mode & 0o400, 0)
        }
        // The pread/pwrite fallback gives the same bytes.
        let target = tempPath("fallback")
        let src = open(source, O_RDONLY)
        let dst = open(target, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        var buffer = [UInt8](repeating: 0, count: 1000)
        var copied = 0
        while copied < 2500 {
            copied += try FileRangeCopy.copyChunk(from: src, at: 99 + copied, to: dst, at: copied,
                                                  count: min(1000, 2500 - copied), buffer: &buffer)
        }
        close(src)
        close(dst)
        XCTAssertEqual(readFile(target), Array(data[99..<2599]))
    }

    func testCopyRangeFailuresRemoveTarget() throws {
        let source = writeFile([UInt8](repeating: 1, count: 1000), tag: "small")
        let target = tempPath("short")
        XCTAssertThrowsError(try Multipart.copyRange(fromFile: source, offset: 900, length: 200, toFile: target))
        XCTAssertEqual(access(target, F_OK), -1, "target must be removed after a failed copy")
        XCTAssertThrowsError(try Multipart.copyRange(fromFile: source, offset: -1, length: 2, toFile: target))
        XCTAssertThrowsError(try Multipart.copyRange(fromFile: "/nonexistent/x", offset: 0, length: 2, toFile: target))
        XCTAssertEqual(access(target, F_OK), -1)
        // O_EXCL: an existing target is never overwritten (nor removed).
        let existing = writeFile([9, 9], tag: "existing")
        XCTAssertThrowsError(try Multipart.copyRange(fromFile: source, offset: 0, length: 10, toFile: existing))
        XCTAssertEqual(readFile(existing), [9, 9])
    }

}
