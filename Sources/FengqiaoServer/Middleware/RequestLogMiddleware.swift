import Vapor

/// One `info` line per request: method, path, status and duration in milliseconds, with the
/// request id (`FENGQIAO_LOG_LEVEL=info` or lower shows them; the default `notice` does not).
/// Replaces Vapor's route logging, which writes the whole URL: the query string is left out, so
/// search terms and other parameters never reach the log (domain spec §7.2: no personal data or
/// credentials in logs). Failed requests are logged with the status the client received.
struct RequestLogMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next.respond(to: request)
            log(request, status: response.status.code, start: start)
            return response
        } catch {
            log(request, status: (error as? any AbortError)?.status.code ?? 500, start: start)
            throw error
        }
    }

    private func log(_ request: Request, status: UInt, start: ContinuousClock.Instant) {
        guard request.logger.logLevel <= .info else { return }
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        request.logger.info("\(request.method.rawValue) \(request.url.path) \(status) \((ms * 10).rounded() / 10) ms")
    }
}
