//! The peer of the verification benchmark: the smallest useful axum endpoint (one route,
//! a fixed JSON body of about the verification record's size) on the same runtime and
//! machine, so xcert's verification requests per second are read as a ratio of it.
//!
//! `cargo run --release -p xcert-web --example minimal_axum -- 127.0.0.1:18081`

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".into());
    let body: &'static str = Box::leak(
        serde_json::json!({
            "number": "202620000000019", "holder_name": "张三", "id_masked": "3701**********0014",
            "certificate_name": "电力需求响应综合服务", "level": "intermediate", "state": "active", "valid": true,
            "teo_name": "国家电网有限公司", "issued_on": "2026-12-01",
        })
        .to_string()
        .into_boxed_str(),
    );
    let app = Router::new().route(
        "/verify/{number}",
        get(move || async move { ([("content-type", "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
