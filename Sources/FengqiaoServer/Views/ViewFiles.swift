import Foundation
import LeafKit
import NIOCore

/// Serves Leaf templates from the resource bundle's `Views/` folder.
///
/// LeafKit's file source refuses any path with a hidden folder in it (`~/.cache/…`, where build
/// trees and some installs live), so templates are read here instead, by name only: a name
/// with `/`, `\` or `..` is refused.
struct ViewFiles: LeafSource {
    let directory: String

    func file(template: String, escape: Bool, on eventLoop: any EventLoop) throws -> EventLoopFuture<ByteBuffer> {
        let name = template.hasSuffix(".leaf") ? String(template.dropLast(5)) : template
        guard !name.isEmpty, !name.contains(".."), !name.contains("/"), !name.contains("\\") else {
            throw LeafError(.illegalAccess("template name \(template) is not allowed"))
        }
        guard let data = FileManager.default.contents(atPath: directory + name + ".leaf") else {
            return eventLoop.makeFailedFuture(LeafError(.noTemplateExists(template)))
        }
        return eventLoop.makeSucceededFuture(ByteBuffer(bytes: data))
    }
}
