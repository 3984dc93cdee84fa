"""What the dialect clients share: a base URL, the request timeout, and the verbs as shorthands
of each client's own `request`."""

HTTP_TIMEOUT = 30


class Client:
    base = ""

    def url(self, path):
        return self.base + path

    def request(self, method, path, **kw):
        raise NotImplementedError

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)
