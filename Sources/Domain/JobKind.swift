#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A kind of queued work, as the side that queues it sees it: its name (the `jobs.kind`
/// column), its payload, and the lane that runs it. Declared beside the service that queues
/// it; the worker binds a handler to it in its registry (`JobRegistry`).
public protocol JobKind {
    associatedtype Payload: Codable & Sendable
    static var name: String { get }
    /// Where it runs: a short job never waits behind a backlog of long ones.
    static var lane: JobLane { get }
    /// What the job works on (`jobs.subject_id`): cancelling matches it. nil: nothing to name.
    static func subject(of payload: Payload) -> String?
}

extension JobKind {
    public static func subject(of payload: Payload) -> String? { nil }
}

/// The text of a job's payload in its row. A payload that encodes as one string (a file's
/// public id) is stored as that bare string, so such rows read the same in SQL as they did
/// before payloads were typed; any other payload is stored as JSON. A string that would
/// itself read as JSON (`"x"`, `12`, `true`) is stored JSON-quoted, so every text decodes
/// back to exactly what was encoded.
public enum JobPayload {
    public static func encode<P: Encodable>(_ payload: P) throws -> String {
        let data = try JSONEncoder().encode(payload)
        if let bare = try? JSONDecoder().decode(String.self, from: data), !isJSON(bare) { return bare }
        return String(decoding: data, as: UTF8.self)
    }

    public static func decode<P: Decodable>(_ type: P.Type, from text: String) throws -> P {
        let data = isJSON(text) ? Data(text.utf8) : try JSONEncoder().encode(text)
        return try JSONDecoder().decode(type, from: data)
    }

    static func isJSON(_ text: String) -> Bool {
        (try? JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8))) != nil
    }

    /// Any JSON value, top-level fragments too (JSONDecoder takes them): read and dropped.
    private struct AnyJSON: Decodable {
        struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            if var array = try? decoder.unkeyedContainer() {
                while !array.isAtEnd { _ = try array.decode(AnyJSON.self) }
            } else if let object = try? decoder.container(keyedBy: Key.self) {
                for key in object.allKeys { _ = try object.decode(AnyJSON.self, forKey: key) }
            } else {
                let value = try decoder.singleValueContainer()
                if value.decodeNil() || (try? value.decode(Bool.self)) != nil || (try? value.decode(Decimal.self)) != nil
                    || (try? value.decode(Double.self)) != nil { return }
                _ = try value.decode(String.self)
            }
        }
    }
}
