import Crypto
import FengqiaoCore
import Foundation
import Testing

/// Message formats of the notification channels (issue 5 "Notifications"), checked against vectors
/// computed independently (Python `hmac`/`base64`/`urllib.parse.quote`).
@Suite("notification channel formats")
struct NotificationChannelTests {
    @Test("DingTalk 加签: base64 HMAC-SHA256 of \"<ms>\\n<secret>\", URL-encoded in the URL")
    func dingTalkSignature() {
        let secret = "SEC0123456789abcdef"
        #expect(DingTalkRobot.sign(secret: secret, timestampMillis: 1_700_000_000_000) == "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=")
        #expect(DingTalkRobot.signedURL("https://oapi.dingtalk.com/robot/send?access_token=abc", secret: secret, timestampMillis: 1_700_000_000_000)
                == "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D")
    }

    @Test("WeCom and DingTalk bodies are the documented JSON shapes; errcode 0 is success, anything else a failure")
    func robotBodies() throws {
        let n = NotificationText(title: "吹哨报到：市政设施", text: "事件 1a2b3c4d 已派遣给您。")
        let we = try #require(try JSONSerialization.jsonObject(with: WeComRobot.markdown(n)) as? [String: Any])
        #expect(we["msgtype"] as? String == "markdown" && ((we["markdown"] as? [String: Any])?["content"] as? String)?.contains("1a2b3c4d") == true)
        let wt = try #require(try JSONSerialization.jsonObject(with: WeComRobot.text(n)) as? [String: Any])
        #expect(wt["msgtype"] as? String == "text" && (wt["text"] as? [String: Any])?["content"] != nil)
        let dt = try #require(try JSONSerialization.jsonObject(with: DingTalkRobot.markdown(n)) as? [String: Any])
        let md = try #require(dt["markdown"] as? [String: Any])
        #expect(dt["msgtype"] as? String == "markdown" && md["title"] as? String == n.title && (md["text"] as? String)?.contains(n.text) == true)
        #expect(RobotAnswer.failure(Data(#"{"errcode":0,"errmsg":"ok"}"#.utf8)) == nil)
        #expect(RobotAnswer.failure(Data(#"{"errcode":130101,"errmsg":"send too fast"}"#.utf8)) == "errcode 130101: send too fast")
        #expect(RobotAnswer.failure(Data("<html>".utf8)) != nil)
        // WeCom markdown content is limited to 4096 bytes.
        let long = NotificationText(title: "t", text: String(repeating: "字", count: 3000))
        let content = try #require(((try JSONSerialization.jsonObject(with: WeComRobot.markdown(long)) as? [String: Any])?["markdown"] as? [String: Any])?["content"] as? String)
        #expect(content.utf8.count <= WeComRobot.maxContentBytes)
    }

    @Test("notification texts never carry an ID number or a mobile number")
    func scrubbed() {
        let t = NotificationText(title: "联系 13800138000", text: "身份证 11010519491231002X，电话 +86 138-0013-8000，事件 20261130")
        #expect(!t.title.contains("13800138000") && !t.text.contains("11010519491231002X") && !t.text.contains("0013-8000"))
        #expect(t.text.contains("20261130"), "short numbers stay")
    }

    @Test("SMS gateway template: placeholders escaped per place (URL, JSON body, form body, headers)")
    func smsTemplate() throws {
        let json = SMSGatewayTemplate(url: "https://sms.example/send?to={{phone}}&ref={{id}}", headers: ["Content-Type": "application/json", "X-Ref": "{{id}}\r\nInjected: 1"],
                                      body: #"{"to":"{{phone}}","text":"{{text}}"}"#)
        let r = json.render(phone: "+8613800138000", text: "事件 \"A\"\n派遣", id: "abc", timestamp: 1)
        #expect(r.method == "POST" && r.url == "https://sms.example/send?to=%2B8613800138000&ref=abc")
        #expect(r.headers.contains { $0.0 == "X-Ref" && $0.1 == "abcInjected: 1" })
        let body = try #require(try JSONSerialization.jsonObject(with: Data((r.body ?? "").utf8)) as? [String: String])
        #expect(body == ["to": "+8613800138000", "text": "事件 \"A\"\n派遣"])
        let form = SMSGatewayTemplate(url: "https://sms.example/send", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "mobile={{phone}}&content={{text}}")
        #expect(form.render(phone: "13800138000", text: "a b&c", id: "x", timestamp: 1).body == "mobile=13800138000&content=a%20b%26c")
        #expect(throws: DomainError.self) { try SMSGatewayTemplate(method: "DELETE", url: "https://x").validated() }
        #expect(throws: DomainError.self) { try SMSGatewayTemplate(url: "ftp://x").validated() }
        let decoded = try JSONDecoder().decode(SMSGatewayTemplate.self, from: Data(#"{"url":"https://sms.example/{{phone}}"}"#.utf8))
        #expect(decoded.method == "POST" && decoded.headers.isEmpty && decoded.succeeded(status: 204) && !decoded.succeeded(status: 500))
    }
}
