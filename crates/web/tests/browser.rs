//! A real headless Chromium, driven through ChromeDriver: sign in, create a certificate
//! with a standard, publish it, and find it in the public catalogue.
//!
//! Skipped (loudly) when ChromeDriver is not installed; `XCERT_TEST_BROWSER=1` turns a
//! missing browser into a failure so CI cannot skip it by accident.

mod common;

use common::{Engine, PASSWORD, spawn_app};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

async fn sign_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("f-username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Id("f-password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Id("login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_url(&format!("{base}/admin").parse().unwrap())
        .await
        .unwrap();
}

async fn sign_out(c: &Client) {
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("catalogue-search"))
        .await
        .unwrap();
}

#[tokio::test]
async fn sign_in_create_certificate_with_standard_and_find_it_in_catalogue() {
    let required = std::env::var("XCERT_TEST_BROWSER").is_ok_and(|v| v == "1");
    let (Some(driver), Some(chromium)) = (
        find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]),
        find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]),
    ) else {
        assert!(
            !required,
            "XCERT_TEST_BROWSER=1 but chromium/chromedriver are not installed"
        );
        common::loud_once(
            &std::sync::Once::new(),
            "=== SKIPPED: browser test (apt-get install chromium chromium-driver; XCERT_TEST_BROWSER=1 makes it required) ===",
        );
        return;
    };
    let app = spawn_app(Engine::Sqlite).await;
    let base = app.base.clone();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _driver = KillOnDrop(
        Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-quic", "--window-size=1280,1000",
                     format!("--user-data-dir={}", profile.path().display())]
        }
    });
    let caps: fantoccini::wd::Capabilities = caps.as_object().unwrap().clone();
    let mut c = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => {
                c = Some(client);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = c.expect("ChromeDriver did not start");

    // TEO staff create the certificate and its standard.
    sign_in(&c, &base, "teo_a").await;
    c.goto(&format!("{base}/admin/certificates/new"))
        .await
        .unwrap();
    c.find(Locator::Id("f-code"))
        .await
        .unwrap()
        .send_keys("SGCC-BT1")
        .await
        .unwrap();
    c.find(Locator::Id("f-name_zh"))
        .await
        .unwrap()
        .send_keys("智能巡检机器人运维")
        .await
        .unwrap();
    c.find(Locator::Id("f-majors"))
        .await
        .unwrap()
        .send_keys("电力系统自动化技术")
        .await
        .unwrap();
    for l in ["junior", "intermediate", "senior"] {
        let cb = c.find(Locator::Id(&format!("f-level_{l}"))).await.unwrap();
        if cb.prop("checked").await.unwrap().as_deref() != Some("true") {
            cb.click().await.unwrap();
        }
    }
    c.find(Locator::Id("cert-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let outline = c
        .wait()
        .for_element(Locator::Id("f-outline"))
        .await
        .unwrap();
    outline
        .send_keys(
            "# 巡检准备\n## 设备检查\n- [初级] 能完成机器人开机自检\n- [中级] 能处理常见告警\n",
        )
        .await
        .unwrap();
    c.find(Locator::Id("standard-publish"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let tree = c
        .wait()
        .for_element(Locator::Id("standard-tree"))
        .await
        .unwrap();
    assert!(tree.text().await.unwrap().contains("能完成机器人开机自检"));
    sign_out(&c).await;

    // A TEO's certificate is a draft until the ministry publishes it.
    c.goto(&format!("{base}/?q=智能巡检")).await.unwrap();
    assert!(
        !c.source().await.unwrap().contains("SGCC-BT1"),
        "a draft is not in the public catalogue"
    );
    sign_in(&c, &base, "admin").await;
    c.goto(&format!("{base}/admin/certificates/SGCC-BT1"))
        .await
        .unwrap();
    c.find(Locator::Css("#f-status option[value='published']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("cert-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("cert-title"))
        .await
        .unwrap();
    sign_out(&c).await;

    // The public finds it by searching the catalogue.
    c.goto(&format!("{base}/")).await.unwrap();
    let q = c
        .find(Locator::Css("#catalogue-search input[name=q]"))
        .await
        .unwrap();
    q.send_keys("智能巡检").await.unwrap();
    c.find(Locator::Css("#catalogue-search button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let table = c
        .wait()
        .for_element(Locator::Id("catalogue"))
        .await
        .unwrap();
    let text = table.text().await.unwrap();
    assert!(
        text.contains("SGCC-BT1") && text.contains("智能巡检机器人运维"),
        "{text}"
    );
    c.find(Locator::LinkText("智能巡检机器人运维"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let tree = c
        .wait()
        .for_element(Locator::Id("standard-tree"))
        .await
        .unwrap();
    let text = tree.text().await.unwrap();
    assert!(
        text.contains("能完成机器人开机自检") && text.contains("能处理常见告警"),
        "{text}"
    );
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(std::env::temp_dir().join("xcert-browser.png"), png);
    }
    c.close().await.unwrap();
}
