package org.apache.dubbo.registry.zookeeper;

import java.util.HashMap;
import java.util.Map;

/**
 * The payload Dubbo's ZooKeeper service discovery keeps in Curator's instance records, with
 * Dubbo's class name and fields (dubbo-registry-zookeeper's ZookeeperInstance), so Curator
 * writes and reads the same JSON as a Java Dubbo provider and consumer.
 */
public class ZookeeperInstance {
    private String id;
    private String name;
    private Map<String, String> metadata = new HashMap<>();

    @SuppressWarnings("unused")
    private ZookeeperInstance() {}

    public ZookeeperInstance(String id, String name, Map<String, String> metadata) {
        this.id = id;
        this.name = name;
        this.metadata = metadata;
    }

    public String getId() { return id; }
    public String getName() { return name; }
    public void setId(String id) { this.id = id; }
    public void setName(String name) { this.name = name; }
    public Map<String, String> getMetadata() { return metadata; }
    public void setMetadata(Map<String, String> metadata) { this.metadata = metadata; }
}
