/// `--name value` and `--flag` command-line options, read once at start.
public struct Arguments: Sendable {
    public private(set) var values: [String: String] = [:]
    public private(set) var positional: [String] = []

    public init(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if arg.hasPrefix("--") {
                let name = String(arg.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    values[String(name[..<eq])] = String(name[name.index(after: eq)...])
                } else if i + 1 < arguments.count, !arguments[i + 1].hasPrefix("--") {
                    values[name] = arguments[i + 1]
                    i += 1
                } else {
                    values[name] = ""
                }
            } else {
                positional.append(arg)
            }
            i += 1
        }
    }

    /// Values already checked (`OptionTable.parse`).
    public init(values: [String: String], positional: [String] = []) {
        self.values = values
        self.positional = positional
    }

    public subscript(_ name: String) -> String? { values[name] }

    public func int(_ name: String) -> Int? { values[name].flatMap { Int($0) } }

    public func has(_ name: String) -> Bool { values[name] != nil }
}
