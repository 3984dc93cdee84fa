import Dialect

/// Every dialect `serve` runs, one row each. Run paths (its socket), the supervised children and
/// nginx's upstreams and `location ^~` blocks are generated from this table.
struct DialectRow {
    /// The nginx servers (one port each); their error pages and nginx-only locations are in the template.
    enum Server: String, CaseIterable {
        case store, media

        /// The template's placeholder for this server's dialect locations.
        var locationsPlaceholder: String { "LOCATIONS_" + rawValue.uppercased() }
    }

    /// Short name: socket `RUN/<name>.sock`, upstream `<name>_api`.
    let name: String
    /// The executable next to `fetchgate`; it runs `Host.run` and takes the host's options.
    let executable: String
    let server: Server
    /// URL prefixes nginx passes to the dialect (`location ^~ PREFIX`).
    let prefixes: [String]
    /// Prefixes whose bodies nginx buffers to a file on the data volume (uploads up to --max-upload).
    let uploadPrefixes: [String]
    /// `serve` options handed to this dialect alone, as given (the dialect's own `App.options`).
    var ownOptions: [String] = []
    /// `serve` flags (no value) handed to this dialect alone when given.
    var ownFlags: [String] = []
    /// Prefixes the other server passes to this dialect too (the store's customer links, so that the
    /// dashboard on the media server opens them on its own origin).
    var alsoOnOtherServer: [String] = []

    var upstream: String { name + "_api" }

    static let all: [DialectRow] = [
        DialectRow(name: "store", executable: "store-api", server: .store,
                   prefixes: ["/api/", CustomerLinks.orderItemPrefix, CustomerLinks.permalinkPrefix],
                   uploadPrefixes: ["/api/uploads"], ownOptions: ["signup-limit"], ownFlags: ["allow-signup"],
                   alsoOnOtherServer: [CustomerLinks.orderItemPrefix, CustomerLinks.permalinkPrefix]),
        DialectRow(name: "files", executable: "files-api", server: .media, prefixes: [], uploadPrefixes: ["/files"]),
        DialectRow(name: "fetch", executable: "fetch-api", server: .media, prefixes: ["/fetch"], uploadPrefixes: [],
                   ownOptions: ["yt-dlp", "metadata-timeout"]),
        DialectRow(name: "downloader", executable: "downloader-api", server: .media, prefixes: ["/api/download", "/api/downloads"],
                   uploadPrefixes: [], ownOptions: ["downloader-account"]),
        DialectRow(name: "jobs", executable: "jobs-api", server: .media, prefixes: ["/jobs", "/batch", "/metadata", "/usage", "/user"],
                   uploadPrefixes: [], ownOptions: ["yt-dlp", "metadata-timeout", "job-cap", "master-key-file"]),
    ]
}
