import Domain
import Foundation

/// Renders `nginx/fetchgate.conf.in` into the run directory: `{{NAME}}` placeholders
/// replaced, nothing else changed, so the tested config is the shipped one.
struct NginxConfig {
    let paths: RunPaths
    let template: String
    let values: [String: String]

    init(paths: RunPaths, template: String, listen: String, storePort: Int, mediaPort: Int, maxUpload: String,
         signingSecret: String) throws {
        self.paths = paths
        self.template = template
        // Workers run as the user that runs the FastCGI processes: they share the sockets
        // (mode 0600) and nginx's upload temp files.
        let user = getuid() == 0 ? "user root root;" : ""
        values = [
            "USER": user,
            "RUN_DIR": paths.runDirectory,
            "DATA_DIR": paths.data,
            "BODY_TEMP": paths.bodyTemp,
            "ERROR_LOG_SOCKET": paths.errorLogSocket,
            "LISTEN": listen,
            "STORE_PORT": String(storePort),
            "MEDIA_PORT": String(mediaPort),
            "STORE_SOCKET": paths.storeSocket,
            "FILES_SOCKET": paths.filesSocket,
            "SIGNING_SECRET": signingSecret,
            "MAX_UPLOAD": maxUpload,
            "CONF_DIR": (template as NSString).deletingLastPathComponent,
        ]
    }

    func render() throws -> String {
        var text = try String(contentsOfFile: template, encoding: .utf8)
        for (name, value) in values { text = text.replacingOccurrences(of: "{{\(name)}}", with: value) }
        if let range = text.range(of: "{{") {
            throw SetupError("nginx template has an unknown placeholder near \(text[range.lowerBound...].prefix(30))")
        }
        return text
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
