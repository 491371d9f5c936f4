//! Logs never contain passwords, tokens or cookies, even at debug level, in the daily log
//! files and on stderr.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn logs_never_contain_passwords_tokens_or_cookies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, |c| {
        c.env("SELAH_LOG__LEVEL", "debug")
            .env("SELAH_LOG__TO_FILE", "true");
    })
    .await;
    let wrong_password = "wrong-password-never-logged-93b2";

    // Setup, then a token login.
    let api = server.founder().await;
    let token = api.token.clone().unwrap();
    let (st, me) = api.get("/api/v1/auth/me").await;
    assert_eq!(st, 200, "{me}");

    // A cookie login, then /me with the cookie.
    let browser = reqwest::Client::builder()
        .no_proxy()
        .cookie_store(true)
        .build()
        .unwrap();
    let resp = browser
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"username": "founder", "password": FOUNDER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookies: Vec<String> = resp
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .filter_map(|kv| kv.split_once('=').map(|(_, v)| v.to_string()))
        .filter(|v| v.len() >= 16)
        .collect();
    assert!(!cookies.is_empty(), "login set no session cookie");
    let login: serde_json::Value = resp.json().await.unwrap();
    let second_token = login["token"].as_str().unwrap_or_default().to_string();
    let csrf = login["csrf_token"].as_str().unwrap_or_default().to_string();
    let me = browser
        .get(format!("{}/api/v1/auth/me", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // A failed login.
    let (st, _) = server
        .client()
        .post(
            "/api/v1/auth/login",
            json!({"username": "founder", "password": wrong_password}),
        )
        .await;
    assert_eq!(st, 401);

    let stderr = server.stop().await;
    let files = files_under(&data.join("logs"));
    assert!(!files.is_empty(), "file logging wrote nothing");
    let mut texts = vec![("stderr".to_string(), stderr)];
    for f in files {
        texts.push((
            f.display().to_string(),
            std::fs::read_to_string(&f).unwrap(),
        ));
    }
    // The logs are not trivially empty: debug output and the shutdown are there.
    assert!(
        texts.iter().any(|(_, t)| t.contains("DEBUG")),
        "no debug lines"
    );
    assert!(texts.iter().all(|(_, t)| t.contains("stopped cleanly")));

    let mut secrets = vec![
        ("founder password", FOUNDER_PASSWORD.to_string()),
        ("wrong password", wrong_password.to_string()),
        ("token", token),
    ];
    secrets.extend(cookies.into_iter().map(|c| ("cookie", c)));
    for (what, s) in [("second token", second_token), ("CSRF token", csrf)] {
        if s.len() >= 16 {
            secrets.push((what, s));
        }
    }
    for (name, text) in &texts {
        for (what, secret) in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "the {what} appears in {name}"
            );
        }
    }
}
