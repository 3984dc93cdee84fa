import Dialect

// store-api: the store dialect (seed 004) over FastCGI; `store-api --help` lists the options.
Host.run(StoreApp.self)
