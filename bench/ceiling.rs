//! The in-memory ceiling for the benchmark: the same page bytes served by a
//! minimal actix-web handler, with the headers a cache hit carries.
//! Usage: ceiling <bind address> <file with the page body> [workers]

use actix_web::{App, HttpResponse, HttpServer, web};
use bytes::Bytes;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:18181".to_string());
    let file = args.next().expect("usage: ceiling <bind> <page file>");
    let workers = args.next().and_then(|w| w.parse().ok());
    let page = Bytes::from(std::fs::read(file)?);
    let mut server = HttpServer::new(move || {
        let page = page.clone();
        App::new().default_service(web::to(move || {
            let page = page.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .insert_header(("cache-control", "no-cache"))
                    .insert_header(("etag", "\"0123456789abcdef\""))
                    .insert_header(("x-cache", "HIT"))
                    .body(page)
            }
        }))
    })
    .bind(bind)?;
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    server.run().await
}
