import Dialect

// fetch-api: the Fetch dialect (seed 000) over FastCGI, JSON; `fetch-api --help` lists the options.
Host.run(FetchApp.self)
