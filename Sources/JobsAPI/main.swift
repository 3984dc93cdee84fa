import Dialect

// jobs-api: the download jobs dialect (seed 002) over FastCGI, JSON; `jobs-api --help` lists the options.
Host.run(JobsApp.self)
