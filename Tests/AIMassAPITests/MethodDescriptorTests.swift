import AIMassAPI
import RPCCore
import Testing

/// The generated method descriptors name the paths that gRPC clients of the .proto files call.
@Suite struct MethodDescriptorTests {
    @Test func pathsFollowTheProto() {
        #expect(ModelRegistryMethods.getModel.path == "/aimass.v1.ModelRegistry/GetModel")
        #expect(ModelRegistryMethods.uploadVersion.path == "/aimass.v1.ModelRegistry/UploadVersion")
        #expect(SchedulerMethods.join.path == "/aimass.v1.Scheduler/Join")
        #expect(RecommendMethods.similarItems.path == "/aimass.v1.Recommend/SimilarItems")
        #expect(MeshMethods.watch.path == "/aimass.v1.Mesh/Watch")
    }

    @Test func serviceNamesAreFullyQualified() {
        #expect(
            [ModelRegistryMethods.serviceName, SchedulerMethods.serviceName, RecommendMethods.serviceName, MeshMethods.serviceName]
                == ["aimass.v1.ModelRegistry", "aimass.v1.Scheduler", "aimass.v1.Recommend", "aimass.v1.Mesh"]
        )
    }
}
