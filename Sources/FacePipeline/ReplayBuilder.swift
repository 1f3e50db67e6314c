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

    /// A 16:9 crop three face heights tall around `face`: the face fills about a third of the frame,
    /// as at a door camera a step away.
    public static func closeUp(of photo: RGBImage, face: PixelRect) throws -> RGBImage {
        let side = face.height * 3
        let region = PixelRect(x: face.x + face.width / 2 - side * 8 / 9, y: face.y + face.height / 2 - side / 2,
                               width: side * 16 / 9, height: side).intersection(photo.bounds)!
        return try photo.cropped(to: region)
    }

    /// One frame: the photo scaled to fit and centred on the background, or the background alone.
    public func frame(_ photo: RGBImage?) throws -> RGBImage {
        var frame = try RGBImage(width: width, height: height, fill: 96)
        guard let photo else { return frame }
        let scale = min(Double(width) / Double(photo.width), Double(height) / Double(photo.height))
        let fitted = try photo.scaled(by: scale)
        frame.paste(fitted, x: (width - fitted.width) / 2, y: (height - fitted.height) / 2)
        return frame
    }

    /// The replay's bytes, and how many frames it holds.
    public func build(_ segments: [Segment]) throws -> (bytes: [UInt8], frames: Int) {
        let encoder = JPEGEncoder(quality: quality)
        let emptyJPEG = try encoder.encode(try frame(nil))
        var bytes = [UInt8](), frames = 0
        for segment in segments {
            switch segment {
            case let .empty(n):
                for _ in 0 ..< n { bytes += emptyJPEG }
                frames += n
            case let .photo(photo, n):
                let jpeg = try encoder.encode(try frame(photo))
                for _ in 0 ..< n { bytes += jpeg }
                frames += n
            }
        }
        return (bytes, frames)
    }
}
