#if canImport(Glibc)
import Glibc
#endif

/// One command-line option a program takes: `--name VALUE`, `--name=VALUE` or a bare `--flag`.
public struct Option: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Present or not; takes no value.
        case flag
        /// Any text.
        case text
        /// A whole number within the range.
        case integer(ClosedRange<Int>)
    }

    public let name: String
    public let kind: Kind
    /// What the value is, in the usage text (`PATH`, `N`).
    public let placeholder: String
    public let required: Bool
    public let help: String

    public init(_ name: String, _ kind: Kind = .text, placeholder: String = "VALUE", required: Bool = false, help: String = "") {
        self.name = name
        self.kind = kind
        self.placeholder = kind == .flag ? "" : placeholder
        self.required = required
        self.help = help
    }
}

/// A command line the program refuses: the message names the option.
public struct OptionError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The options a program takes, in one table: it parses strictly (an unknown option, a missing
/// value or a malformed number is refused, naming it) and writes the usage text.
public struct OptionTable: Sendable {
    public let program: String
    public let options: [Option]

    public init(program: String, options: [Option]) {
        self.program = program
        self.options = options
    }

    /// `usage: PROGRAM --required VALUE [--optional N] [--flag]` and one line per option.
    public var usage: String {
        var synopsis = "usage: \(program)"
        var lines: [String] = []
        for option in options {
            let spelled = "--" + option.name + (option.placeholder.isEmpty ? "" : " " + option.placeholder)
            synopsis += option.required ? " " + spelled : " [" + spelled + "]"
            if !option.help.isEmpty {
                lines.append("  " + spelled.padding(toLength: 32) + " " + option.help)
            }
        }
        return ([synopsis] + lines).joined(separator: "\n")
    }

    /// The values of a command line (without the program name); positional arguments are refused.
    public func parse(_ arguments: [String]) throws(OptionError) -> Arguments {
        var values: [String: String] = [:]
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw OptionError("\(program): unexpected argument '\(argument)'")
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let option = options.first(where: { $0.name == name }) else {
                throw OptionError("\(program): unknown option --\(name)")
            }
            if option.kind == .flag {
                if value != nil { throw OptionError("\(program): --\(name) takes no value") }
                values[name] = ""
                continue
            }
            if value == nil {
                guard i < arguments.count else { throw OptionError("\(program): --\(name) needs a value") }
                value = arguments[i]
                i += 1
            }
            if case .integer(let range) = option.kind {
                guard let number = Int(value!), range.contains(number) else {
                    throw OptionError("\(program): --\(name) needs a whole number in \(range.lowerBound)...\(range.upperBound), got '\(value!)'")
                }
            }
            values[name] = value
        }
        for option in options where option.required && values[option.name] == nil {
            throw OptionError("\(program): --\(option.name) is required")
        }
        return Arguments(values: values)
    }

    /// Parses the process's command line; a refused one prints the reason and the usage text
    /// to standard error and exits with status 2. `--help` alone prints the usage text and exits 0.
    public func parseOrExit(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Arguments {
        if arguments == ["--help"] {
            print(usage)
            exit(0)
        }
        do {
            return try parse(arguments)
        } catch {
            logError(error.message + "\n" + usage)
            exit(2)
        }
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
