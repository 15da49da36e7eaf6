//! A browser stand-in for the back-office pages: keeps the cookies the backend sets,
//! reads the CSRF token from the last page, submits forms, and signs users in. Users
//! are created through the admin API with random passwords.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fieldkit_backend::storage::Role;

use super::{Backend, Resp};

/// Adds a user of `authority` with `role`; returns the password.
pub async fn add_user(backend: &Backend, authority: &str, login: &str, role: Role) -> String {
    let password = fieldkit_backend::password::generate().to_string();
    use fieldkit_backend::admin::user::{add, FirstLogin};
    add(
        &backend.admin,
        authority,
        login,
        role,
        &password,
        FirstLogin::KeepPassword,
    )
    .await
    .expect("user added");
    password
}

/// A cookie jar and the last page seen.
#[derive(Debug, Default, Clone)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
    pub last_csrf: Option<String>,
    /// The address requests come from (a loopback address; default 127.0.0.1).
    pub from: Option<std::net::IpAddr>,
}

/// The value of the first `name="csrf" value="…"` in a page.
pub fn csrf_in(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let rest = &body[at..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self::default()
    }

    /// A browser whose requests come from `ip` (over HTTP: bound to it; through the
    /// router: as the connection's peer address).
    pub fn from(ip: &str) -> Self {
        Self {
            from: Some(ip.parse().expect("ip")),
            ..Self::default()
        }
    }

    fn mark(&self, req: &mut Request<Body>) {
        if let Some(ip) = self.from {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
                    ip, 40000,
                )));
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn take(&mut self, resp: &Resp) {
        for value in resp.headers.get_all("set-cookie") {
            let text = value.to_str().expect("ascii cookie");
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        if let Some(token) = csrf_in(&resp.text()) {
            self.last_csrf = Some(token);
        }
    }

    pub async fn get(&mut self, backend: &Backend, path: &str) -> Resp {
        let req = Request::get(path)
            .header("cookie", self.cookie_header())
            .body(Body::empty())
            .expect("request");
        let mut req = req;
        self.mark(&mut req);
        let resp = backend.send(req).await;
        self.take(&resp);
        resp
    }

    /// Posts exactly these fields (add the CSRF token yourself, or use [`Browser::submit`]).
    pub async fn post(&mut self, backend: &Backend, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).expect("form encodes");
        let req = Request::post(path)
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        let mut req = req;
        self.mark(&mut req);
        let resp = backend.send(req).await;
        self.take(&resp);
        resp
    }

    /// Posts the fields with the CSRF token of the last page.
    pub async fn submit(&mut self, backend: &Backend, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self
            .last_csrf
            .clone()
            .expect("a page with a form was loaded");
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(backend, path, &all).await
    }

    /// Loads the login form and submits it.
    pub async fn try_login(&mut self, backend: &Backend, login: &str, password: &str) -> Resp {
        let form = self.get(backend, "/office/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text());
        self.submit(
            backend,
            "/office/login",
            &[("login", login), ("password", password)],
        )
        .await
    }

    /// A browser signed in as `login`, with the CSRF token of its start page.
    pub async fn signed_in(backend: &Backend, login: &str, password: &str) -> Self {
        let mut browser = Self::new();
        let resp = browser.try_login(backend, login, password).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        let home = browser.get(backend, "/office").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.text());
        browser
    }
}
