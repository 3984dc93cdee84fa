import Store

/// A file of the Files API: uploaded or imported from a URL, then probed.
public struct MediaFile: Equatable, Sendable {
    public enum Source: String, Sendable { case upload, url }
    public enum Status: String, Sendable { case pending, processing, ready, failed }

    public var rowID: Int64
    public var id: String
    public var accountID: Int64
    public var name: String
    public var source: Source
    public var sourceURL: String?
    public var status: Status
    public var sizeBytes: Int64?
    public var contentType: String?
    public var storageKey: String?
    public var error: String?
    /// Normalised ffprobe result as JSON text, nil until probed or when not media.
    public var ffprobe: String?
    public var ffprobeError: String?
    public var createdAt: Int64

    /// The columns a file is read from, in the order `selectList` names them.
    enum Column: Int, CaseIterable {
        case id, publicID, accountID, name, source, sourceURL, status, sizeBytes, contentType, storageKey, error, ffprobe,
             ffprobeError, createdAt

        var name: String {
            switch self {
            case .id: "id"
            case .publicID: "public_id"
            case .accountID: "account_id"
            case .name: "name"
            case .source: "source"
            case .sourceURL: "source_url"
            case .status: "status"
            case .sizeBytes: "size_bytes"
            case .contentType: "content_type"
            case .storageKey: "storage_key"
            case .error: "error"
            case .ffprobe: "ffprobe"
            case .ffprobeError: "ffprobe_error"
            case .createdAt: "created_at"
            }
        }

        static let names = allCases.map(\.name)
    }

    /// `SELECT <selectList> FROM media_files …`: what every query of files selects.
    static let selectList = Column.names.joined(separator: ", ")

    /// Decodes a result's rows: column positions resolved once, every row read by index.
    static func all(_ rows: [Row]) -> [MediaFile] {
        guard let first = rows.first else { return [] }
        let positions = first.positions(of: Column.names)
        return rows.map { MediaFile(row: $0, positions) }
    }

    init(row: Row) {
        self.init(row: row, row.positions(of: Column.names))
    }

    private init(row: Row, _ p: ColumnPositions) {
        func int(_ c: Column) -> Int64? { row.int(at: p[c.rawValue]) }
        func string(_ c: Column) -> String? { row.string(at: p[c.rawValue]) }
        rowID = int(.id) ?? 0
        id = string(.publicID) ?? ""
        accountID = int(.accountID) ?? 0
        name = string(.name) ?? ""
        // A switch compares small strings in one go; `init(rawValue:)` walks a generic table.
        source = switch string(.source) {
        case "url": .url
        default: .upload
        }
        sourceURL = string(.sourceURL)
        status = switch string(.status) {
        case "ready": .ready
        case "processing": .processing
        case "failed": .failed
        default: .pending
        }
        sizeBytes = int(.sizeBytes)
        contentType = string(.contentType)
        storageKey = string(.storageKey)
        error = string(.error)
        ffprobe = string(.ffprobe)
        ffprobeError = string(.ffprobeError)
        createdAt = int(.createdAt) ?? 0
    }
}
