/// A dialect-neutral tree of request input.
///
/// Query strings, form bodies (with Rails-style nested keys) and XML bodies all
/// become a `Params` value, so handlers read input the same way whatever the
/// client sent.
public enum Params: Equatable, Sendable {
    case null
    case string(String)
    case object([(String, Params)])
    case array([Params])

    public static func == (lhs: Params, rhs: Params) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Member of an object by key; dashes and underscores are interchangeable.
    public subscript(key: String) -> Params? {
        guard case .object(let members) = self else { return nil }
        let wanted = Params.normalize(key)
        return members.last(where: { Params.normalize($0.0) == wanted })?.1
    }

    /// The string value, or nil for anything that is not a string.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Elements of an array; an object becomes its values (as XML lists without
    /// `type="array"` and Rails hashes keyed by index arrive), a string one element.
    public var elements: [Params] {
        switch self {
        case .array(let items): return items
        case .object(let members): return members.map { $0.1 }
        case .null: return []
        case .string: return [self]
        }
    }

    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// Merge two objects: members of `other` win over members of `self`.
    public func merging(_ other: Params) -> Params {
        guard case .object(var mine) = self else { return other }
        guard case .object(let theirs) = other else { return self }
        for (key, value) in theirs {
            if let index = mine.firstIndex(where: { Params.normalize($0.0) == Params.normalize(key) }) {
                mine[index].1 = mine[index].1.isObject && value.isObject ? mine[index].1.merging(value) : value
            } else {
                mine.append((key, value))
            }
        }
        return .object(mine)
    }

    static func normalize(_ key: String) -> String {
        key.contains("-") ? String(key.map { $0 == "-" ? "_" : $0 }) : key
    }
}

extension Params {
    public static let empty = Params.object([])
}
