/// The payload of a file's job: the file's public id, which is also the job's subject.
/// Stored as the bare id (`JobPayload`), as rows queued before payloads were typed are.
public struct MediaFileJob: Codable, Equatable, Sendable {
    public let fileID: String

    public init(fileID: String) { self.fileID = fileID }

    public init(from decoder: any Decoder) throws {
        fileID = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(fileID)
    }
}

/// Download a file's URL, then probe it.
public enum FileImportJob: JobKind {
    public typealias Payload = MediaFileJob
    public static let name = "file-import"
    public static let lane = JobLane.long
    public static func subject(of payload: MediaFileJob) -> String? { payload.fileID }
}

/// Probe an uploaded file.
public enum FileProbeJob: JobKind {
    public typealias Payload = MediaFileJob
    public static let name = "file-probe"
    public static let lane = JobLane.long
    public static func subject(of payload: MediaFileJob) -> String? { payload.fileID }
}
