//! Microsoft.Network calls: virtual networks, subnets, network interfaces, network
//! security groups and rules, public IP addresses.

use hybrid_core::Result;
use hybrid_http::Url;
use serde_json::Value;

use super::versions::{
    NETWORK_INTERFACES, NETWORK_SECURITY_GROUPS, PUBLIC_IP_ADDRESSES, VIRTUAL_NETWORKS,
};
use super::{get, group_url, page, sub_url};
use crate::client::{ArmClient, RawPage};
use crate::ids::ResourceId;
use crate::lro::Lro;

const NS: &str = "Microsoft.Network";

/// `GET …/virtualNetworks/{vnet}` (VirtualNetworks_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_vnet(arm: &ArmClient, vnet: &ResourceId) -> Result<Value> {
    get(arm, vnet, VIRTUAL_NETWORKS, "get_network").await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Network/virtualNetworks`
/// (VirtualNetworks_List), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_vnets(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    page(
        arm,
        group_url(arm, NS, "virtualNetworks", VIRTUAL_NETWORKS),
        next,
        "list_networks",
    )
    .await
}

/// `GET /subscriptions/{s}/providers/Microsoft.Network/virtualNetworks`
/// (VirtualNetworks_ListAll), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_all_vnets(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    let s = arm.scope().subscription_id.clone();
    let first = arm.url(
        &["subscriptions", &s, "providers", NS, "virtualNetworks"],
        VIRTUAL_NETWORKS,
    );
    page(arm, first, next, "list_networks").await
}

/// `PUT …/virtualNetworks/{vnet}` (VirtualNetworks_CreateOrUpdate), followed as an LRO.
/// A PUT replaces the whole VNet: an update must carry its subnets.
///
/// # Errors
/// `InvalidInput`, `QuotaExceeded`; as [`ArmClient::execute`].
pub async fn put_vnet(arm: &ArmClient, vnet: &ResourceId, body: &Value, op: &str) -> Result<Lro> {
    super::put(
        arm,
        vnet,
        VIRTUAL_NETWORKS,
        body,
        op,
        format!("put network {}", vnet.name()),
    )
    .await
}

/// `DELETE …/virtualNetworks/{vnet}` (VirtualNetworks_Delete), followed as an LRO.
///
/// # Errors
/// `NotFound`, `Conflict` while in use; as [`ArmClient::execute`].
pub async fn delete_vnet(arm: &ArmClient, vnet: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        vnet,
        VIRTUAL_NETWORKS,
        "delete_network",
        format!("delete network {}", vnet.name()),
    )
    .await
}

/// `GET …/virtualNetworks/{vnet}/subnets/{subnet}` (Subnets_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_subnet(arm: &ArmClient, subnet: &ResourceId) -> Result<Value> {
    get(arm, subnet, VIRTUAL_NETWORKS, "get_subnet").await
}

/// `GET …/virtualNetworks/{vnet}/subnets` (Subnets_List), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_subnets(
    arm: &ArmClient,
    vnet: &ResourceId,
    next: Option<Url>,
) -> Result<RawPage> {
    page(
        arm,
        sub_url(arm, vnet, "subnets", VIRTUAL_NETWORKS),
        next,
        "list_subnets",
    )
    .await
}

/// `PUT …/virtualNetworks/{vnet}/subnets/{subnet}` (Subnets_CreateOrUpdate), followed
/// as an LRO.
///
/// # Errors
/// `InvalidInput` (a prefix outside the VNet), `Conflict` (overlap); as
/// [`ArmClient::execute`].
pub async fn put_subnet(arm: &ArmClient, subnet: &ResourceId, body: &Value) -> Result<Lro> {
    super::put(
        arm,
        subnet,
        VIRTUAL_NETWORKS,
        body,
        "create_subnet",
        format!("create subnet {}", subnet.name()),
    )
    .await
}

/// `DELETE …/virtualNetworks/{vnet}/subnets/{subnet}` (Subnets_Delete), followed as an LRO.
///
/// # Errors
/// `NotFound`, `Conflict` while in use; as [`ArmClient::execute`].
pub async fn delete_subnet(arm: &ArmClient, subnet: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        subnet,
        VIRTUAL_NETWORKS,
        "delete_subnet",
        format!("delete subnet {}", subnet.name()),
    )
    .await
}

/// `GET …/networkInterfaces/{nic}` (NetworkInterfaces_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_nic(arm: &ArmClient, nic: &ResourceId) -> Result<Value> {
    get(arm, nic, NETWORK_INTERFACES, "get_port").await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Network/networkInterfaces`
/// (NetworkInterfaces_List), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_nics(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    page(
        arm,
        group_url(arm, NS, "networkInterfaces", NETWORK_INTERFACES),
        next,
        "list_ports",
    )
    .await
}

/// `PUT …/networkInterfaces/{nic}` (NetworkInterfaces_CreateOrUpdate), followed as an LRO.
///
/// # Errors
/// `NotFound` (subnet, NSG), `Conflict` (address in use); as [`ArmClient::execute`].
pub async fn put_nic(arm: &ArmClient, nic: &ResourceId, body: &Value, op: &str) -> Result<Lro> {
    super::put(
        arm,
        nic,
        NETWORK_INTERFACES,
        body,
        op,
        format!("put port {}", nic.name()),
    )
    .await
}

/// `DELETE …/networkInterfaces/{nic}` (NetworkInterfaces_Delete), followed as an LRO.
///
/// # Errors
/// `NotFound`, `Conflict` while a VM uses it; as [`ArmClient::execute`].
pub async fn delete_nic(arm: &ArmClient, nic: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        nic,
        NETWORK_INTERFACES,
        "delete_port",
        format!("delete port {}", nic.name()),
    )
    .await
}

/// `GET …/networkSecurityGroups/{nsg}` (NetworkSecurityGroups_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_nsg(arm: &ArmClient, nsg: &ResourceId) -> Result<Value> {
    get(arm, nsg, NETWORK_SECURITY_GROUPS, "get_security_group").await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Network/networkSecurityGroups`
/// (NetworkSecurityGroups_List), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_nsgs(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    page(
        arm,
        group_url(arm, NS, "networkSecurityGroups", NETWORK_SECURITY_GROUPS),
        next,
        "list_security_groups",
    )
    .await
}

/// `PUT …/networkSecurityGroups/{nsg}` (NetworkSecurityGroups_CreateOrUpdate),
/// followed as an LRO.
///
/// # Errors
/// `InvalidInput`, `QuotaExceeded`; as [`ArmClient::execute`].
pub async fn put_nsg(arm: &ArmClient, nsg: &ResourceId, body: &Value) -> Result<Lro> {
    super::put(
        arm,
        nsg,
        NETWORK_SECURITY_GROUPS,
        body,
        "create_security_group",
        format!("create security group {}", nsg.name()),
    )
    .await
}

/// `DELETE …/networkSecurityGroups/{nsg}` (NetworkSecurityGroups_Delete), followed as
/// an LRO.
///
/// # Errors
/// `NotFound`, `Conflict` while in use; as [`ArmClient::execute`].
pub async fn delete_nsg(arm: &ArmClient, nsg: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        nsg,
        NETWORK_SECURITY_GROUPS,
        "delete_security_group",
        format!("delete security group {}", nsg.name()),
    )
    .await
}

/// `GET …/networkSecurityGroups/{nsg}/securityRules/{rule}` (SecurityRules_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_security_rule(arm: &ArmClient, rule: &ResourceId) -> Result<Value> {
    get(
        arm,
        rule,
        NETWORK_SECURITY_GROUPS,
        "get_security_group_rule",
    )
    .await
}

/// `PUT …/networkSecurityGroups/{nsg}/securityRules/{rule}`
/// (SecurityRules_CreateOrUpdate), followed as an LRO.
///
/// # Errors
/// `InvalidInput` (`SecurityRuleConflict` for a taken priority); as
/// [`ArmClient::execute`].
pub async fn put_security_rule(arm: &ArmClient, rule: &ResourceId, body: &Value) -> Result<Lro> {
    super::put(
        arm,
        rule,
        NETWORK_SECURITY_GROUPS,
        body,
        "create_security_group_rule",
        format!("create security rule {}", rule.name()),
    )
    .await
}

/// `DELETE …/networkSecurityGroups/{nsg}/securityRules/{rule}` (SecurityRules_Delete),
/// followed as an LRO.
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn delete_security_rule(arm: &ArmClient, rule: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        rule,
        NETWORK_SECURITY_GROUPS,
        "delete_security_group_rule",
        format!("delete security rule {}", rule.name()),
    )
    .await
}

/// `GET …/publicIPAddresses/{ip}` (PublicIPAddresses_Get).
///
/// # Errors
/// `NotFound`; as [`ArmClient::execute`].
pub async fn get_public_ip(arm: &ArmClient, ip: &ResourceId) -> Result<Value> {
    get(arm, ip, PUBLIC_IP_ADDRESSES, "get_floating_ip").await
}

/// `GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Network/publicIPAddresses`
/// (PublicIPAddresses_List), or the page at `next`.
///
/// # Errors
/// As [`ArmClient::list_page`].
pub async fn list_public_ips(arm: &ArmClient, next: Option<Url>) -> Result<RawPage> {
    page(
        arm,
        group_url(arm, NS, "publicIPAddresses", PUBLIC_IP_ADDRESSES),
        next,
        "list_floating_ips",
    )
    .await
}

/// `PUT …/publicIPAddresses/{ip}` (PublicIPAddresses_CreateOrUpdate), followed as an LRO.
///
/// # Errors
/// `QuotaExceeded`; as [`ArmClient::execute`].
pub async fn put_public_ip(arm: &ArmClient, ip: &ResourceId, body: &Value) -> Result<Lro> {
    super::put(
        arm,
        ip,
        PUBLIC_IP_ADDRESSES,
        body,
        "create_floating_ip",
        format!("create floating IP {}", ip.name()),
    )
    .await
}

/// `DELETE …/publicIPAddresses/{ip}` (PublicIPAddresses_Delete), followed as an LRO.
///
/// # Errors
/// `NotFound`, `Conflict` while associated; as [`ArmClient::execute`].
pub async fn delete_public_ip(arm: &ArmClient, ip: &ResourceId) -> Result<Lro> {
    super::delete(
        arm,
        ip,
        PUBLIC_IP_ADDRESSES,
        "delete_floating_ip",
        format!("delete floating IP {}", ip.name()),
    )
    .await
}
