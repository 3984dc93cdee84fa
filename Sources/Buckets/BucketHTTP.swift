import CCurl
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Outbound

/// One request of a bucket client, through `GuardedTransfer` (the endpoint checked by the
/// address policy, pinned, connections only to the checked addresses): the body from memory or
/// from a file range (read with pread as curl asks: flat memory), the response body collected
/// up to 64 KiB (error documents, upload ids), the named response headers read back.
struct BucketHTTP: Sendable {
    enum Body {
        case none
        case memory([UInt8])
        case file(fd: Int32, offset: Int64, length: Int64)
    }

    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// libcurl signs with SigV4 (`CURLOPT_AWS_SIGV4`, "aws:amz:REGION:s3").
    struct AWSSigning: Sendable {
        let region: String
        let accessKeyID: String
        let secret: String
    }

    static let maxReplyBytes = 64 << 10

    let policy: AddressPolicy
    let timeoutSeconds: Int

    func send(_ method: String, _ url: String, headers: [(String, String)] = [], body: Body = .none, signing: AWSSigning? = nil,
              readHeaders: [String] = [], shouldStop: @escaping () -> Bool = { false }) throws -> Reply {
        for (name, value) in headers where value.utf8.contains(where: { $0 == 0x0d || $0 == 0x0a || $0 == 0 }) {
            throw OutboundError("refusing to send a malformed header \(name)", transient: false, reason: .other)
        }
        let target = try policy.check(url: url)
        var list: UnsafeMutablePointer<curl_slist>?
        // No `Expect: 100-continue` round trip when we sign ourselves; libcurl's SigV4 would sign
        // the emptied `Expect:` line although it is never sent (curl 7.88), so curl-signed uploads
        // keep curl's own Expect (S3 and moto answer 100 Continue).
        let lines = headers.map { "\($0.0): \($0.1)" } + (signing == nil ? ["Expect:"] : [])
        for line in lines { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }
        // The structs curl's callbacks write to live at fixed heap addresses for the whole transfer.
        let out = UnsafeMutablePointer<CChar>.allocate(capacity: BucketHTTP.maxReplyBytes)
        let memory = UnsafeMutablePointer<fg_curl_memory>.allocate(capacity: 1)
        memory.initialize(to: fg_curl_memory(data: out, capacity: BucketHTTP.maxReplyBytes, length: 0, total: 0))
        let fileSource = UnsafeMutablePointer<fg_curl_file_source>.allocate(capacity: 1)
        fileSource.initialize(to: fg_curl_file_source(fd: -1, offset: 0, remaining: 0, sent: 0, failed: 0))
        let memorySource = UnsafeMutablePointer<fg_curl_source>.allocate(capacity: 1)
        defer { out.deallocate(); memory.deallocate(); fileSource.deallocate(); memorySource.deallocate() }
        let bodyBytes: [UInt8]
        if case .memory(let bytes) = body { bodyBytes = bytes } else { bodyBytes = [] }
        let stored = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bodyBytes.count))
        defer { stored.deallocate() }
        bodyBytes.withUnsafeBufferPointer { if let base = $0.baseAddress { stored.update(from: base, count: $0.count) } }
        memorySource.initialize(to: fg_curl_source(data: UnsafeRawPointer(stored).assumingMemoryBound(to: CChar.self),
                                                   length: bodyBytes.count, position: 0))
        return try GuardedTransfer.perform(target, what: "bucket request", timeoutSeconds: timeoutSeconds, shouldStop: shouldStop,
                                           configure: { handle in
                    fg_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, list)
                    fg_curl_collect(handle, memory)
                    switch body {
                    case .none:
                        if method == "HEAD" { fg_curl_setopt_long(handle, CURLOPT_NOBODY, 1) }
                    case .memory(let bytes) where method == "POST":
                        fg_curl_setopt_long(handle, CURLOPT_POST, 1)
                        fg_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE_LARGE, bytes.count)
                        fg_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, stored)
                    case .memory(let bytes):
                        fg_curl_upload_from(handle, memorySource)
                        fg_curl_setopt_long(handle, CURLOPT_INFILESIZE_LARGE, bytes.count)
                    case .file(let fd, let offset, let length):
                        fileSource.pointee = fg_curl_file_source(fd: fd, offset: offset, remaining: length, sent: 0, failed: 0)
                        fg_curl_upload_file(handle, fileSource)
                    }
                    if method != "GET" && method != "HEAD" && method != "POST" && method != "PUT" {
                        fg_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
                    }
                    if let signing {
                        fg_curl_setopt_string(handle, CURLOPT_AWS_SIGV4, "aws:amz:\(signing.region):s3")
                        fg_curl_setopt_string(handle, CURLOPT_USERNAME, signing.accessKeyID)
                        fg_curl_setopt_string(handle, CURLOPT_PASSWORD, signing.secret)
                    }
                }, inspect: { handle, code, detail in
                    if fileSource.pointee.failed != 0 {
                        throw OutboundError("cannot read the file being uploaded: \(String(cString: strerror(fileSource.pointee.failed)))",
                                            transient: true, reason: .localWrite)
                    }
                    guard code == CURLE_OK else {
                        throw OutboundError("the bucket request failed: \(detail)", transient: true,
                                            reason: code == CURLE_OPERATION_TIMEDOUT ? .timeout : .network)
                    }
                    var status = 0
                    fg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
                    var found: [String: String] = [:]
                    for name in readHeaders {
                        if let value = fg_curl_header(handle, name) { found[name.lowercased()] = String(cString: value) }
                    }
                    let bytes = UnsafeRawBufferPointer(start: out, count: memory.pointee.length)
                    return Reply(status: status, headers: found, body: Array(bytes))
                })
    }
}

/// The file an upload reads: opened once, its size taken from the open descriptor.
enum UploadFile {
    /// Runs `body` with the open file and its size; the file is closed afterwards.
    static func with<T>(_ path: String, _ body: (_ fd: Int32, _ size: Int64) throws -> T) throws -> T {
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else { throw BucketError(.localFile, "cannot open the file to upload") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw BucketError(.localFile, "cannot read the file to upload") }
        return try body(fd, Int64(info.st_size))
    }

    /// MD5 of a range of the file, or a transient failure when it cannot be read.
    static func md5(_ fd: Int32, offset: Int64, length: Int64) throws -> [UInt8] {
        guard let md5 = Digest.md5(fileDescriptor: fd, offset: offset, length: length) else {
            throw BucketError(.localFile, "cannot read the file to upload", transient: true)
        }
        return md5
    }

    /// The stored object as looked at right after the upload, checked to hold `size` bytes.
    static func verified(_ stored: StoredObject?, size: Int64, noun: String) throws -> StoredObject {
        guard let stored else {
            throw BucketError(.verificationFailed, "the \(noun) is missing right after its upload", transient: true)
        }
        guard stored.size == size else {
            throw BucketError(.verificationFailed, "the \(noun) holds \(stored.size) bytes, \(size) were sent", transient: true)
        }
        return stored
    }
}
