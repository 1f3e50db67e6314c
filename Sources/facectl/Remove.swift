import ArgumentParser
import FaceStore

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a person and all their face templates.",
        discussion: "Example:\n  facectl remove bob")

    @Argument(help: "The person's name.")
    var name: String

    @OptionGroup var store: StoreOptions

    func run() throws {
        let removed = try store.open(create: false).remove(name: name)
        print("removed \(name) and \(removed) template\(removed == 1 ? "" : "s")")
    }
}
