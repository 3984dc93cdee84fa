/// Reads a request's input into `Params`: the query string merged with the body
/// (form-encoded, XML or a JSON object, whatever the method — some clients send GET bodies).
public enum RequestInput {
    public struct Error: Swift.Error, Equatable, Sendable {
        public let message: String
        /// The body is larger than a reader takes (too many pairs, XML past its size): a 413.
        public var tooLarge = false
    }

    public static func params(_ request: Request) throws(RequestInput.Error) -> Params {
        guard FormParser.decodesToUTF8(request.rawQuery.utf8) else { throw Error(message: "The query string is not UTF-8") }
        let query = request.query
        guard !request.body.isEmpty else { return query }
        return query.merging(try body(request))
    }

    public static func body(_ request: Request) throws(RequestInput.Error) -> Params {
        let type = request.contentType
        if type.hasSuffix("/xml") || type.hasSuffix("+xml") || (type.isEmpty && looksLikeXML(request.body)) {
            do {
                return try XMLReader.params(request.body)
            } catch where error.tooLarge {
                throw Error(message: "XML body is larger than \(XMLReader.maxBytes) bytes", tooLarge: true)
            } catch {
                throw Error(message: "Malformed XML: " + error.message)
            }
        }
        if type.isEmpty || type == "application/x-www-form-urlencoded" {
            guard FormParser.decodesToUTF8(request.body) else { throw Error(message: "The form body is not UTF-8") }
            do {
                return try FormParser.parseBody(request.body)
            } catch {
                throw Error(message: "Form body has more than \(FormParser.maxPairs) fields", tooLarge: true)
            }
        }
        if type == "application/json" || type.hasSuffix("+json") {
            do { return try JSONReader.params(request.body) } catch { throw Error(message: error.message) }
        }
        if type == "multipart/form-data" {
            return .empty // multipart bodies are read by the upload handlers themselves
        }
        throw Error(message: "Unsupported Content-Type \(type)")
    }

    static func looksLikeXML(_ body: [UInt8]) -> Bool {
        for c in body {
            if c == 32 || c == 9 || c == 10 || c == 13 || c == 0xEF || c == 0xBB || c == 0xBF { continue }
            return c == UInt8(ascii: "<")
        }
        return false
    }
}
