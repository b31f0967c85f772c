//! HTTP clients: requests, httpx, urllib, urllib3.
//! <https://www.python-httpx.org/async/>

use super::{
    Effect::Blocking, FuncEntry, IoKind::Http, ObjKind::HttpClient, Pack, ctor, func, method,
};

const HTTP: super::Effect = Blocking(Http);
const CLIENT: &[super::ObjKind] = &[HttpClient];

pub const PACK: Pack = Pack {
    name: "http",
    roots: &[],
    funcs: &[
        func("requests.get", HTTP),
        func("requests.post", HTTP),
        func("requests.put", HTTP),
        func("requests.patch", HTTP),
        func("requests.delete", HTTP),
        func("requests.head", HTTP),
        func("requests.options", HTTP),
        func("requests.request", HTTP),
        func("requests.api.get", HTTP),
        func("requests.api.post", HTTP),
        func("requests.api.request", HTTP),
        ctor("requests.Session", HttpClient),
        ctor("requests.session", HttpClient),
        ctor("requests.sessions.Session", HttpClient),
        func("httpx.get", HTTP),
        func("httpx.post", HTTP),
        func("httpx.put", HTTP),
        func("httpx.patch", HTTP),
        func("httpx.delete", HTTP),
        func("httpx.head", HTTP),
        func("httpx.options", HTTP),
        func("httpx.request", HTTP),
        func("httpx.stream", HTTP),
        ctor("httpx.Client", HttpClient),
        func("urllib.request.urlopen", HTTP),
        func("urllib.request.urlretrieve", HTTP),
        func("urllib3.request", HTTP),
        ctor("urllib3.PoolManager", HttpClient),
        FuncEntry {
            name: "http.client.HTTPConnection",
            effect: None,
            returns: Some(HttpClient),
        },
        FuncEntry {
            name: "http.client.HTTPSConnection",
            effect: None,
            returns: Some(HttpClient),
        },
    ],
    types: &[
        ("requests.Session", HttpClient),
        ("httpx.Client", HttpClient),
    ],
    methods: &[
        method(CLIENT, "get", HTTP),
        method(CLIENT, "post", HTTP),
        method(CLIENT, "put", HTTP),
        method(CLIENT, "patch", HTTP),
        method(CLIENT, "delete", HTTP),
        method(CLIENT, "head", HTTP),
        method(CLIENT, "options", HTTP),
        method(CLIENT, "request", HTTP),
        method(CLIENT, "send", HTTP),
        method(CLIENT, "stream", HTTP),
        method(CLIENT, "urlopen", HTTP),
        method(CLIENT, "getresponse", HTTP),
    ],
    hints: &[],
    attributes: &[],
};
