import FaceVision
import Foundation

/// Builds an MJPEG replay (concatenated JPEG frames) from still photos: each photo is scaled to
/// fit a frame and centred on a plain background; "empty" frames are the background alone.
public struct ReplayBuilder {
    public enum Segment: Sendable {
        case empty(frames: Int)
        case photo(RGBImage, frames: Int)
    }

    public var width: Int
    public var height: Int
    public var quality: Int

    public init(width: Int = 1280, height: Int = 720, quality: Int = 85) {
        self.width = width
        self.height = height
        self.quality = quality
    }

    /// The replay's bytes, and how many frames it holds.
    public func build(_ segments: [Segment]) throws -> (bytes: [UInt8], frames: Int) {
        let encoder = JPEGEncoder(quality: quality)
        let background = try RGBImage(width: width, height: height, fill: 96)
        let emptyJPEG = try encoder.encode(background)
        var bytes = [UInt8](), frames = 0
        for segment in segments {
            switch segment {
            case let .empty(n):
                for _ in 0 ..< n { bytes += emptyJPEG }
                frames += n
            case let .photo(photo, n):
                let scale = min(Double(width) / Double(photo.width), Double(height) / Double(photo.height))
                let fitted = try photo.scaled(by: scale)
                var frame = background
                frame.paste(fitted, x: (width - fitted.width) / 2, y: (height - fitted.height) / 2)
                let jpeg = try encoder.encode(frame)
                for _ in 0 ..< n { bytes += jpeg }
                frames += n
            }
        }
        return (bytes, frames)
    }
}
