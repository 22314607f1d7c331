import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.dubbo.registry.zookeeper.ZookeeperInstance;

/**
 * Dubbo 3's application-level discovery in ZooKeeper, done as a Java Dubbo 3.3 process does
 * it, with Apache Curator's service discovery (what Dubbo's ZookeeperServiceDiscovery uses)
 * and Jackson:
 *
 *   query CONNECT INTERFACE
 *     reads /dubbo/mapping/INTERFACE, the instances of each application it names under
 *     /services, and each instance's remote metadata /dubbo/metadata/APP/REVISION; prints one
 *     line per provider of INTERFACE: "PROTOCOL://HOST:PORT/INTERFACE?serialization=..&version=.."
 *     and "instance ID APP PAYLOAD-CLASS" per instance.
 *   register CONNECT INTERFACE APP HOST PORT PROTOCOL
 *     registers an instance of APP serving INTERFACE over PROTOCOL at HOST:PORT, with remote
 *     metadata and the mapping, as a Java provider with storage-type=remote does; prints
 *     "registered", then keeps it until stdin closes.
 */
public class CuratorDiscovery {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.newClient(args[1], 4000, 4000, new RetryNTimes(20, 250));
        client.start();
        client.blockUntilConnected();
        ServiceDiscovery<ZookeeperInstance> discovery = ServiceDiscoveryBuilder.builder(ZookeeperInstance.class)
                .client(client).basePath("/services").build();
        discovery.start();
        if (args[0].equals("query")) {
            query(client, discovery, args[2]);
        } else {
            register(client, discovery, args[2], args[3], args[4], Integer.parseInt(args[5]), args[6]);
        }
        discovery.close();
        client.close();
    }

    private static void query(CuratorFramework client, ServiceDiscovery<ZookeeperInstance> discovery, String iface)
            throws Exception {
        String mapping = new String(client.getData().forPath("/dubbo/mapping/" + iface), StandardCharsets.UTF_8);
        for (String app : mapping.split(",")) {
            Collection<ServiceInstance<ZookeeperInstance>> instances = discovery.queryForInstances(app.trim());
            for (ServiceInstance<ZookeeperInstance> instance : instances) {
                ZookeeperInstance payload = instance.getPayload();
                System.out.println("instance " + instance.getId() + " " + instance.getName() + " "
                        + payload.getClass().getName());
                Map<String, String> metadata = payload.getMetadata();
                if (!"remote".equals(metadata.get("dubbo.metadata.storage-type"))) {
                    continue;
                }
                String revision = metadata.get("dubbo.metadata.revision");
                JsonNode info = JSON.readTree(client.getData().forPath("/dubbo/metadata/" + app + "/" + revision));
                Map<String, Integer> ports = new TreeMap<>();
                for (JsonNode endpoint : JSON.readTree(metadata.get("dubbo.endpoints"))) {
                    ports.put(endpoint.get("protocol").asText(), endpoint.get("port").asInt());
                }
                List<String> lines = new ArrayList<>();
                Iterator<JsonNode> services = info.get("services").elements();
                while (services.hasNext()) {
                    JsonNode service = services.next();
                    if (!service.get("name").asText().equals(iface)) {
                        continue;
                    }
                    String protocol = service.get("protocol").asText();
                    int port = ports.getOrDefault(protocol, instance.getPort());
                    JsonNode params = service.get("params");
                    lines.add(protocol + "://" + instance.getAddress() + ":" + port + "/" + iface
                            + "?serialization=" + params.path("serialization").asText()
                            + "&version=" + service.path("version").asText()
                            + "&application=" + params.path("application").asText());
                }
                lines.sort(null);
                lines.forEach(System.out::println);
            }
        }
    }

    private static void register(CuratorFramework client, ServiceDiscovery<ZookeeperInstance> discovery,
            String iface, String app, String host, int port, String protocol) throws Exception {
        ObjectNode params = JSON.createObjectNode();
        params.put("application", app);
        params.put("interface", iface);
        params.put("side", "provider");
        params.put("dubbo", "2.0.2");
        params.put("release", "3.3.2");
        params.put("version", "1.0.0");
        ObjectNode service = JSON.createObjectNode();
        service.put("name", iface);
        service.put("version", "1.0.0");
        service.put("protocol", protocol);
        service.put("port", port);
        service.put("path", iface);
        service.set("params", params);
        ObjectNode services = JSON.createObjectNode();
        services.set(iface + ":1.0.0:" + protocol, service);
        String revision = "java" + Integer.toHexString(services.toString().hashCode());
        ObjectNode info = JSON.createObjectNode();
        info.put("app", app);
        info.put("revision", revision);
        info.set("services", services);
        client.create().creatingParentsIfNeeded()
                .forPath("/dubbo/metadata/" + app + "/" + revision, JSON.writeValueAsBytes(info));
        String mappingPath = "/dubbo/mapping/" + iface;
        if (client.checkExists().forPath(mappingPath) == null) {
            client.create().creatingParentsIfNeeded().forPath(mappingPath, app.getBytes(StandardCharsets.UTF_8));
        } else {
            String current = new String(client.getData().forPath(mappingPath), StandardCharsets.UTF_8);
            client.setData().forPath(mappingPath, (current + "," + app).getBytes(StandardCharsets.UTF_8));
        }
        Map<String, String> metadata = new TreeMap<>();
        metadata.put("dubbo.endpoints", "[{\"port\":" + port + ",\"protocol\":\"" + protocol + "\"}]");
        metadata.put("dubbo.metadata.revision", revision);
        metadata.put("dubbo.metadata.storage-type", "remote");
        String id = host + ":" + port;
        ServiceInstance<ZookeeperInstance> instance = ServiceInstance.<ZookeeperInstance>builder()
                .id(id).name(app).address(host).port(port)
                .payload(new ZookeeperInstance(id, app, metadata)).build();
        discovery.registerService(instance);
        System.out.println("registered");
        System.out.flush();
        while (System.in.read() != -1) {
        }
        discovery.unregisterService(instance);
    }
}
