/// Filters for ``ModelRegistry/listModels(filter:pageSize:pageToken:by:)``; all set filters must match.
public struct ModelFilter: Sendable, Hashable {
    /// Only models carrying this tag.
    public var tag: String?
    /// Only models whose ``Model/author`` is exactly this.
    public var author: String?
    /// Only models whose name starts with this.
    public var namePrefix: String?
    /// Only models on which this user holds a direct ``Role/owner`` grant (e.g. their creator).
    public var owner: String?

    /// Creates a filter; `nil` fields do not filter.
    public init(tag: String? = nil, author: String? = nil, namePrefix: String? = nil, owner: String? = nil) {
        self.tag = tag
        self.author = author
        self.namePrefix = namePrefix
        self.owner = owner
    }
}

/// One page of models, ordered by name.
public struct ModelPage: Sendable, Hashable {
    /// The models on this page.
    public var models: [Model]
    /// Pass to the next call to continue; `nil` on the last page.
    public var nextPageToken: String?
}
