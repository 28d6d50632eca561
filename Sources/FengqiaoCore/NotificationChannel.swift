import Crypto
import Foundation

/// How a notification reaches a responsible contact (issue 5 "Notifications"): besides in-app
/// notifications (always), a contact account may have any number of channels.
///
/// - `webhook`: the generic JSON webhook signed with HMAC-SHA-256 (`WebhookSignature`). Headers:
///   `X-Fengqiao-Delivery` (message id, stable across retries: receivers dedupe on it),
///   `X-Fengqiao-Timestamp` (unix seconds), `X-Fengqiao-Signature` (`sha256=<hex>` over
///   `"<timestamp>.<body>"`), `Content-Type: application/json`. Success: any 2xx status.
/// - `wecom`: 企业微信群机器人 (WeCom group robot), `POST <webhook URL with key>` with
///   `{"msgtype":"markdown","markdown":{"content":…}}` (or `text`); success only on HTTP 2xx with
///   `{"errcode":0}` (`RobotAnswer`).
/// - `dingtalk`: 钉钉自定义机器人 (DingTalk custom robot), `POST <URL with access_token>` with
///   `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`; with a signing secret ("加签"),
///   `&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256("<ms>\n<secret>")>` is appended
///   (`DingTalkRobot.sign`); errcode semantics as WeCom.
/// - `sms`: a text message through the deployment's SMS gateway (`SMSGatewayTemplate`) to the
///   channel's phone number, which is stored sealed and never logged or shown unmasked.
public enum NotificationChannelKind: String, CaseIterable, Codable, Sendable, Hashable {
    case webhook, wecom, dingtalk, sms

    public var nameZH: String {
        switch self {
        case .webhook: "通用 Webhook"
        case .wecom: "企业微信群机器人"
        case .dingtalk: "钉钉群机器人"
        case .sms: "短信"
        }
    }
}

/// The text of one notification, already free of personal data (the event's free-text
/// description and the reporter are never part of it; `NotificationText.scrubbed` masks anything
/// that looks like an ID number or a phone number as a second line of defence, domain spec §7.4
/// "must contain no direct identifiers").
public struct NotificationText: Sendable, Hashable, Codable {
    public var title: String
    public var text: String

    public init(title: String, text: String) {
        self.title = Self.scrubbed(title)
        self.text = Self.scrubbed(text)
    }

    nonisolated(unsafe) static let idLike = try! NSRegularExpression(pattern: "(?<![0-9])[0-9]{6}(?:19|20)[0-9]{9}[0-9Xx](?![0-9])|(?<![0-9])[0-9]{15}(?![0-9])")
    nonisolated(unsafe) static let phoneLike = try! NSRegularExpression(pattern: "(?<![0-9])(?:\\+?86[- ]?)?1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}(?![0-9])")

    /// Replaces digit runs shaped like a resident ID number (GB 11643, 18 or 15 digits) or a
    /// mainland mobile number (11 digits starting 13–19) with `*`.
    public static func scrubbed(_ s: String) -> String {
        var out = s
        for re in [idLike, phoneLike] {
            let ns = out as NSString
            let matches = re.matches(in: out, range: NSRange(location: 0, length: ns.length)).reversed()
            var m = out
            for r in matches {
                let mns = m as NSString
                m = mns.replacingCharacters(in: r.range, with: String(repeating: "*", count: r.range.length))
            }
            out = m
        }
        return out
    }
}

/// The answer of a group robot (WeCom and DingTalk both answer `{"errcode":0,"errmsg":"ok"}`;
/// any other errcode, for instance DingTalk's 130101 "send too fast" or WeCom's 45009 rate limit,
/// is a failure to retry).
public enum RobotAnswer {
    /// `nil` when the body says `errcode` 0, else the reason to record.
    public static func failure(_ body: Data) -> String? {
        guard let obj = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return "robot answer is not JSON" }
        guard let code = obj["errcode"] as? Int else { return "robot answer has no errcode" }
        if code == 0 { return nil }
        let msg = (obj["errmsg"] as? String).map { String($0.prefix(120)) } ?? ""
        return "errcode \(code)" + (msg.isEmpty ? "" : ": \(msg)")
    }
}

enum RobotJSON {
    static func encode(_ obj: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }
}

/// 企业微信群机器人 message bodies (WeCom "群机器人配置说明": markdown content at most 4096 bytes).
public enum WeComRobot {
    public static let maxContentBytes = 4096

    public static func markdown(_ n: NotificationText) -> Data {
        RobotJSON.encode(["msgtype": "markdown", "markdown": ["content": truncated("**\(n.title)**\n\(n.text)", maxBytes: maxContentBytes)]])
    }

    public static func text(_ n: NotificationText) -> Data {
        RobotJSON.encode(["msgtype": "text", "text": ["content": truncated("\(n.title)\n\(n.text)", maxBytes: 2048)]])
    }
}

/// 钉钉自定义机器人 message bodies and the optional signature ("加签").
public enum DingTalkRobot {
    public static func markdown(_ n: NotificationText) -> Data {
        RobotJSON.encode(["msgtype": "markdown", "markdown": ["title": n.title, "text": "#### \(n.title)\n\n\(n.text)"]])
    }

    public static func text(_ n: NotificationText) -> Data {
        RobotJSON.encode(["msgtype": "text", "text": ["content": "\(n.title)\n\(n.text)"]])
    }

    /// `base64(HMAC-SHA256(key: secret, message: "<timestampMillis>\n<secret>"))`, not yet
    /// URL-encoded (DingTalk custom robot security setting "加签").
    public static func sign(secret: String, timestampMillis: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestampMillis)\n\(secret)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// The robot URL with `timestamp` and the URL-encoded `sign` appended.
    public static func signedURL(_ url: String, secret: String, timestampMillis: Int64) -> String {
        let sign = SMSGatewayTemplate.percentEncoded(sign(secret: secret, timestampMillis: timestampMillis))
        return url + (url.contains("?") ? "&" : "?") + "timestamp=\(timestampMillis)&sign=\(sign)"
    }
}

/// Cuts a string to at most `maxBytes` of UTF-8 without splitting a character.
func truncated(_ s: String, maxBytes: Int) -> String {
    if s.utf8.count <= maxBytes { return s }
    var out = ""
    var n = 0
    for ch in s {
        let c = String(ch).utf8.count
        if n + c > maxBytes - 3 { break }
        out.append(ch)
        n += c
    }
    return out + "…"
}

/// The SMS gateway as an HTTP template (issue 5 "an SMS gateway as a configurable HTTP
/// template"), set per deployment (`FENGQIAO_SMS_GATEWAY`: inline JSON or a path to a JSON file):
///
///     {"method": "POST", "url": "https://sms.example/api/send",
///      "headers": {"Content-Type": "application/json", "Authorization": "Bearer …"},
///      "body": "{\"to\":\"{{phone}}\",\"content\":\"{{text}}\",\"ref\":\"{{id}}\"}",
///      "successStatus": [200, 201]}
///
/// Placeholders: `{{phone}}` (the destination, digits and `+` only), `{{text}}` (title and text),
/// `{{id}}` (the message id, stable across retries), `{{timestamp}}` (unix seconds). In the URL
/// they are percent-encoded; in the body JSON-string-escaped when the `Content-Type` header says
/// JSON, form-encoded when it says `application/x-www-form-urlencoded`, verbatim otherwise; from
/// header values CR and LF are removed. Success is an HTTP status in `successStatus` (default any
/// 2xx).
public struct SMSGatewayTemplate: Codable, Sendable, Hashable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: String?
    public var successStatus: [Int]?

    public init(method: String = "POST", url: String, headers: [String: String] = [:], body: String? = nil, successStatus: [Int]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.successStatus = successStatus
    }

    enum CodingKeys: String, CodingKey { case method, url, headers, body, successStatus }

    /// Decodes a template; only `url` is required (`method` defaults to POST, `headers` to none).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decodeIfPresent(String.self, forKey: .method) ?? "POST"
        url = try c.decode(String.self, forKey: .url)
        headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
        body = try c.decodeIfPresent(String.self, forKey: .body)
        successStatus = try c.decodeIfPresent([Int].self, forKey: .successStatus)
    }

    /// Checks the template: method GET, POST or PUT, an http(s) URL.
    /// - Throws: `DomainError.invalidField` naming `method` or `url`.
    public func validated() throws -> SMSGatewayTemplate {
        var t = self
        t.method = method.uppercased()
        guard ["GET", "POST", "PUT"].contains(t.method) else { throw DomainError.invalidField(field: "method", reason: "must be GET, POST or PUT") }
        let probe = url.replacingOccurrences(of: "{{", with: "").replacingOccurrences(of: "}}", with: "")
        guard let u = URL(string: probe), ["http", "https"].contains(u.scheme?.lowercased() ?? "") else {
            throw DomainError.invalidField(field: "url", reason: "must be an http or https URL")
        }
        return t
    }

    public func succeeded(status: Int) -> Bool {
        if let s = successStatus, !s.isEmpty { return s.contains(status) }
        return (200..<300).contains(status)
    }

    /// The request for one message.
    public func render(phone: String, text: String, id: String, timestamp: Int) -> (method: String, url: String, headers: [(String, String)], body: String?) {
        let values = ["phone": phone.filter { $0.isNumber || $0 == "+" }, "text": text, "id": id, "timestamp": String(timestamp)]
        let contentType = headers.first { $0.key.lowercased() == "content-type" }?.value.lowercased() ?? ""
        let bodyEscape: @Sendable (String) -> String
        if contentType.contains("json") {
            bodyEscape = Self.jsonEscaped
        } else if contentType.contains("x-www-form-urlencoded") {
            bodyEscape = Self.percentEncoded
        } else {
            bodyEscape = { $0 }
        }
        let noBreaks: @Sendable (String) -> String = { String(String.UnicodeScalarView($0.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })) }
        var h: [(String, String)] = []
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { h.append((k, noBreaks(Self.fill(v, values, noBreaks)))) }
        return (method.uppercased(), Self.fill(url, values, Self.percentEncoded), h, body.map { Self.fill($0, values, bodyEscape) })
    }

    static func fill(_ template: String, _ values: [String: String], _ escape: (String) -> String) -> String {
        var out = template
        for (k, v) in values { out = out.replacingOccurrences(of: "{{\(k)}}", with: escape(v)) }
        return out
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters.
    public static func percentEncoded(_ s: String) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        allowed.remove(charactersIn: "")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// The inside of a JSON string literal.
    public static func jsonEscaped(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let str = String(decoding: data, as: UTF8.self)
        return String(str.dropFirst(2).dropLast(2))
    }
}
