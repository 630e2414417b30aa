//! The OpenAPI document and the router agree: every documented route exists, every route is
//! documented, and the document is OpenAPI 3.1.

use std::collections::BTreeSet;

use rehome_tests::{Req, TestApp};
use serde_json::Value as Json;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn documented(app: &TestApp) -> BTreeSet<(String, String)> {
    let spec = app
        .send(Req::new("GET", "/openapi.json"))
        .await
        .expect(200)
        .json();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("path item") {
            out.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    out
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{name}", "someone")
        .replace("{username}", "someone")
}

#[tokio::test]
async fn every_documented_route_exists_and_every_route_is_documented() {
    let app = TestApp::new();
    let documented = documented(&app).await;
    assert!(
        documented.len() >= 60,
        "only {} operations documented",
        documented.len()
    );

    // The router's own list of what it registered.
    let implemented: BTreeSet<(String, String)> = rehome_http::implemented_routes()
        .into_iter()
        .flat_map(|(path, methods)| {
            methods
                .into_iter()
                .map(move |m| (m.as_str().to_owned(), path.clone()))
        })
        .collect();
    let undocumented: Vec<_> = implemented.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&implemented).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(missing.is_empty(), "documented but not served: {missing:?}");

    // And what the router does, independently of that list: a documented operation is
    // routed (never the 404 of an unknown path, never 405), and a method the document does
    // not give a path is 405.
    let paths: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in METHODS {
            let r = app.send(Req::new(method, &concrete(path))).await;
            let is_documented = documented.contains(&(method.to_owned(), path.clone()));
            if is_documented {
                assert_ne!(r.status, 405, "{method} {path}");
                let unknown_path =
                    r.status == 404 && r.json() == serde_json::json!({"detail": "Not found."});
                assert!(!unknown_path, "{method} {path} is not routed");
            } else {
                assert_eq!(r.status, 405, "{method} {path}: {}", r.text());
            }
        }
    }
}

#[tokio::test]
async fn the_document_describes_security_and_errors() {
    let app = TestApp::new();
    let spec: Json = app.send(Req::new("GET", "/openapi.json")).await.json();
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Public routes carry no security requirement; protected ones do.
    assert!(
        spec["paths"]["/authen/login/"]["post"]
            .get("security")
            .is_none()
    );
    assert!(spec["paths"]["/inventory/devices/"]["get"]["security"].is_array());
    let responses = &spec["paths"]["/inventory/devices/{id}/"]["patch"]["responses"];
    for code in ["200", "400", "401", "403", "404", "409", "412"] {
        assert!(responses.get(code).is_some(), "PATCH device lacks {code}");
    }
}
