import Dialect

// files-api: the Files dialect (seed 001) over FastCGI, JSON; `files-api --help` lists the options.
Host.run(FilesApp.self)
