//! Runs the session middleware only for requests that may have or start a
//! session. A visitor without a session cookie reading a public page has no
//! session to load and starts none (only the login form does), yet loading
//! and saving an empty one cost about a sixth of a cache hit.

use crate::request_class::RequestClass;
use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use futures_util::future::{Either, LocalBoxFuture};
use std::rc::Rc;
use std::task::{Context, Poll};

/// Wraps a session middleware `T` (see the module comment).
pub struct SessionGate<T>(pub T);

impl<S, B, T> Transform<S, ServiceRequest> for SessionGate<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    T: Transform<Shared<S>, ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    T::Future: 'static,
    T::InitError: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = Gate<S, T::Transform>;
    type InitError = T::InitError;
    type Future = LocalBoxFuture<'static, Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let plain = Rc::new(service);
        let with_session = self.0.new_transform(Shared(plain.clone()));
        Box::pin(async move {
            Ok(Gate {
                plain,
                with_session: with_session.await?,
            })
        })
    }
}

/// The wrapped service, shared by both ways through the gate.
pub struct Shared<S>(Rc<S>);

impl<S: Service<ServiceRequest>> Service<ServiceRequest> for Shared<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        self.0.call(req)
    }
}

pub struct Gate<S, M> {
    plain: Rc<S>,
    with_session: M,
}

impl<S, M, B> Service<ServiceRequest> for Gate<S, M>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    M: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = Either<S::Future, M::Future>;

    forward_ready!(with_session);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if needs_session(&req) {
            Either::Right(self.with_session.call(req))
        } else {
            Either::Left(self.plain.call(req))
        }
    }
}

/// Everything but a cookieless `GET`/`HEAD` of a public page, an asset or
/// a probe (`RequestClass::needs_session`).
pub fn needs_session(req: &ServiceRequest) -> bool {
    RequestClass::with(req.request(), RequestClass::needs_session)
}
