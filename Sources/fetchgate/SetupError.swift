/// A failure of the machinery around the service (nginx config, run files, local files),
/// not a rule of the domain: printed as is, and the command exits 1.
struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
