import Foundation
import GitHubClient

/// `review.json` in a review task's folder: what was (or would be) posted.
struct ReviewRecord: Codable {
    var pullRequest: String
    var commitID: String
    var body: String
    var comments: [GitHubReviewDraftComment]
    var moved: [String]
    var reviewURL: String?

    enum CodingKeys: String, CodingKey {
        case pullRequest = "pull_request"
        case commitID = "commit_id"
        case body, comments, moved
        case reviewURL = "review_url"
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
