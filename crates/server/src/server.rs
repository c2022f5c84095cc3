//! The connection loop: what a client may hold and for how long.
//!
//! hyper serves each connection (HTTP/1.1) with a header-read timer that also runs while a
//! keep-alive connection waits for its next request, so a client that never finishes its request
//! line or headers, or keeps an idle connection, is cut off after `header_timeout`. A request body
//! that stops arriving fails after `body_timeout` (tower-http's body timeout). At most
//! `max_connections` connections are open at once (beyond that a connection gets a one-line 503
//! with `Retry-After` and is closed), and at most `max_in_flight` requests are being answered
//! (beyond that: 503 with `Retry-After`, tower's load shedding), so a flood costs a refusal, not
//! memory or file descriptors.

use axum::error_handling::HandleErrorLayer;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, StatusCode, Uri};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use minewatch_web::{error_response, App};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tower::ServiceBuilder;
use tower::ServiceExt;

/// Seconds a refused client is asked to wait.
const RETRY_AFTER_SECS: &str = "1";

/// The answer to a request beyond `max_in_flight` (or one whose body timed out).
async fn overloaded(uri: Uri, err: tower::BoxError) -> Response {
    if err.is::<tower::load_shed::error::Overloaded>() {
        let mut r = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is answering as many requests as it can; retry in a second",
            uri.path().starts_with("/api/"),
        );
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
        r
    } else {
        error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("request failed: {err}"),
            uri.path().starts_with("/api/"),
        )
    }
}

/// The one-line answer to a connection beyond `max_connections`, written before closing it.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 44\r\nconnection: close\r\n\r\ntoo many open connections; retry in a second";

/// Serves `app` on `listener` until SIGINT or SIGTERM, then lets open requests finish (up to 10 s).
pub async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) -> std::io::Result<()> {
    minewatch_notify::spawn_worker(Arc::clone(&app)).map_err(std::io::Error::other)?;
    let limits = app.settings.limits.clone();
    let service = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            limits.max_in_flight.max(1),
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            limits.body_timeout,
        ))
        .service(crate::router(app));
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors or similar: wait instead of spinning.
                    eprintln!("minewatch: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tokio::spawn(async move {
                let mut stream = stream;
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), stream.write_all(REFUSED)).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let svc = service
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {
            eprintln!("minewatch: connections still open after 10 s; stopping anyway");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
