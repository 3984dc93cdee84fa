import Dialect
import Domain
import Foundation
import HTTPCore
import Support

/// Renders `nginx/fetchgate.conf.in` into the run directory: `{{NAME}}` placeholders
/// replaced, nothing else changed, so the tested config is the shipped one. The dialects'
/// upstreams and locations are generated from `DialectRow.all`.
struct NginxConfig {
    let paths: RunPaths
    let template: String
    /// Blocks generated from the dialect table; they hold placeholders of `values` themselves.
    let blocks: [String: String]
    let values: [String: String]

    /// `mediaRoutes`: the media server's dialects' route lines (`--routes`), for the `Allow` of
    /// the 405s nginx answers itself there (`AllowMap`).
    init(paths: RunPaths, template: String, www: String, listen: String, storePort: Int, mediaPort: Int, maxUpload: String,
         maxBody: Int, signer: URLSigner, storageLocations: String = "", mediaRoutes: [String], pool: UpstreamPool) throws {
        self.paths = paths
        self.template = template
        var blocks = ["UPSTREAMS": DialectRow.all.map { NginxConfig.upstream($0, paths: paths, pool: pool) }.joined(separator: "\n"),
                      "ALLOW_MAP_MEDIA": AllowMap.nginxMap(variable: "fg_allow_media", routeLines: mediaRoutes),
                      // The file store's own locations (a bucket's /_s3/), in both servers.
                      "STORAGE_LOCATIONS": storageLocations]
        for server in DialectRow.Server.allCases {
            let own = DialectRow.all.filter { $0.server == server }.flatMap { NginxConfig.locations($0, pool: pool) }
            let borrowed = DialectRow.all.filter { $0.server != server }.flatMap { dialect in
                dialect.alsoOnOtherServer.map { NginxConfig.passLocation(dialect, prefix: $0, pool: pool) }
            }
            blocks[server.locationsPlaceholder] = (own + borrowed).joined(separator: "\n")
        }
        self.blocks = blocks
        // Workers run as the user that runs the FastCGI processes: they share the sockets
        // (mode 0600) and nginx's upload temp files.
        let user = getuid() == 0 ? "user root root;" : ""
        values = [
            "USER": user,
            "WORKERS": String(pool.workers),
            // The template's own locations that pass to a dialect keep its connections too.
            "KEEP_CONN": pool.locationLine,
            "RUN_DIR": paths.runDirectory,
            "DATA_DIR": paths.data,
            "BODY_TEMP": paths.bodyTemp,
            "ERROR_LOG_SOCKET": paths.errorLogSocket,
            "LISTEN": listen,
            "STORE_PORT": String(storePort),
            "MEDIA_PORT": String(mediaPort),
            "SECURE_LINK": signer.nginxDirectives(),
            "MAX_BODY": BodyLimit.nginx(maxBody),
            "MAX_UPLOAD": maxUpload,
            "CONF_DIR": (template as NSString).deletingLastPathComponent,
            "WWW_DIR": www,
            // The access log's lines start with the node's tag (`node=N `), as every other log's do.
            "LOG_NODE": Log.prefix,
        ]
    }

    func render() throws -> String {
        var text = try String(contentsOfFile: template, encoding: .utf8)
        for (name, block) in blocks { text = text.replacingOccurrences(of: "{{\(name)}}", with: block) }
        for (name, value) in values { text = text.replacingOccurrences(of: "{{\(name)}}", with: value) }
        if let range = text.range(of: "{{") {
            throw SetupError("nginx template has an unknown placeholder near \(text[range.lowerBound...].prefix(30))")
        }
        return text
    }

    /// The dialect's socket, with the connection pool its threads allow (`UpstreamPool`).
    static func upstream(_ dialect: DialectRow, paths: RunPaths, pool: UpstreamPool) -> String {
        """
            upstream \(dialect.upstream) {
                server unix:\(paths.socket(dialect));
        \(pool.upstreamLines)    }

        """
    }

    /// The dialect's `location ^~` blocks. In an upload location nginx buffers the body to a file
    /// on the data volume and passes only its path; the app copies the file part into storage
    /// in the kernel, and nginx removes the temp file.
    static func locations(_ dialect: DialectRow, pool: UpstreamPool) -> [String] {
        dialect.uploadPrefixes.map { prefix in
            """
                        # \(dialect.executable): uploads (the body arrives as a file on the data volume).
                        location ^~ \(prefix) {
                            client_max_body_size {{MAX_UPLOAD}};
                            client_body_temp_path {{BODY_TEMP}};
                            client_body_in_file_only clean;
                            fastcgi_pass_request_body off;
                            fastcgi_read_timeout 600s;
                            include {{CONF_DIR}}/fastcgi.conf;
                            fastcgi_param REQUEST_BODY_FILE $request_body_file;
                            \(pool.locationLine)
                            fastcgi_pass \(dialect.upstream);
                        }

                """
        } + dialect.prefixes.map { passLocation(dialect, prefix: $0, pool: pool) }
    }

    static func passLocation(_ dialect: DialectRow, prefix: String, pool: UpstreamPool) -> String {
        """
                    # \(dialect.executable)
                    location ^~ \(prefix) {
                        include {{CONF_DIR}}/fastcgi.conf;
                        \(pool.locationLine)
                        fastcgi_pass \(dialect.upstream);
                    }

            """
    }

    /// The dashboard's static files: `www/` beside the template's `nginx/` folder (the checkout).
    static func defaultWWW(template: String) -> String {
        (((template as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("www")
    }

    /// The `--routes` lines of the dialects on `server`: each executable (in `binDirectory`) asked once.
    static func routeLines(of server: DialectRow.Server, binDirectory: String, scratch: String) throws -> [String] {
        var lines: [String] = []
        for dialect in DialectRow.all where dialect.server == server {
            let out = scratch + "/" + dialect.name + ".routes"
            let status = try Subprocess.run([binDirectory + "/" + dialect.executable, "--routes"], stdout: out, timeoutSeconds: 30)
            guard status == 0, let text = try? String(contentsOfFile: out, encoding: .utf8) else {
                throw SetupError("\(dialect.executable) --routes failed (status \(status))")
            }
            try? FileManager.default.removeItem(atPath: out)
            lines += text.split(separator: "\n").map(String.init)
        }
        return lines
    }

    func write() throws {
        try render().write(toFile: paths.nginxConfig, atomically: true, encoding: .utf8)
    }

    /// `nginx/fetchgate.conf.in` next to the checkout this binary was built in, else under the working directory.
    static func defaultTemplate() -> String {
        var dir = (Supervisor.executablePath() as NSString).deletingLastPathComponent
        while dir != "/" && !dir.isEmpty {
            let candidate = dir + "/nginx/fetchgate.conf.in"
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return RunPaths.absolute("nginx/fetchgate.conf.in")
    }
}
